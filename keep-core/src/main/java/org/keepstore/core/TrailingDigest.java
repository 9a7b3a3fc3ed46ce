package org.keepstore.core;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * MD5 of a buffer that another thread is still filling, computed on a helper thread that
 * follows the filler a little behind (see {@link BufferFollower}), so a large PUT costs about
 * as long as the hashing alone.
 */
final class TrailingDigest extends BufferFollower<byte[]> {
    /** The helper hashes at most this much per step, so that a cancel is noticed soon. */
    private static final int STEP = 1 << 20;

    private final MessageDigest md5;

    /** @param buffer filled from index 0; only its contents are used (its position and limit are not) */
    TrailingDigest(ByteBuffer buffer, MessageDigest md5, Executor executor) {
        super(buffer, STEP, false);
        this.md5 = md5;
        start(executor);
    }

    @Override
    protected void consume(ByteBuffer range) {
        md5.update(range);
    }

    @Override
    protected byte[] result() {
        return md5.digest();
    }

    /**
     * Waits for the hash of the first {@code length} bytes (all of them filled).
     *
     * @throws IllegalStateException if hashing failed (it cannot fail for valid input)
     */
    byte[] digest(int length) {
        byte[] digest;
        try {
            digest = finish(length);
        } catch (ExecutionException e) {
            throw new IllegalStateException("hashing failed", e.getCause());
        }
        if (digest == null) {
            throw new IllegalStateException("digest was cancelled");
        }
        return digest;
    }
}
