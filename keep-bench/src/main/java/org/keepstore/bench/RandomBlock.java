package org.keepstore.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A block of fresh random bytes in a direct buffer (so sending it costs no copy in the driver),
 * and its MD5. {@link #refill} makes new content, so every PUT stores a new block rather than
 * touching an existing one.
 */
final class RandomBlock {
    private final ByteBuffer data;
    private final MessageDigest md5 = Md5Baseline.newMd5();
    private String hash;

    RandomBlock(int size) {
        data = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Fills the block with bytes drawn from {@code seed} and hashes it. Not part of any timing. */
    RandomBlock refill(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        data.clear();
        while (data.remaining() >= Long.BYTES) {
            data.putLong(random.nextLong());
        }
        while (data.hasRemaining()) {
            data.put((byte) random.nextInt());
        }
        data.flip();
        md5.update(data.duplicate());
        hash = HexFormat.of().formatHex(md5.digest());
        return this;
    }

    /** The content, position 0 to limit = size; callers must not move it (use duplicate()). */
    ByteBuffer data() {
        return data;
    }

    String hash() {
        return hash;
    }

    int size() {
        return data.limit();
    }
}
