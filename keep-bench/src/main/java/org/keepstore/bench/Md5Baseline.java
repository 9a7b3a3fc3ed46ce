package org.keepstore.bench;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;

/**
 * The yardstick of every figure: how fast one core computes MD5 with {@link MessageDigest}, the
 * same way a keepstore must hash every block it stores or serves (64 MiB in 1 MiB chunks).
 */
final class Md5Baseline {
    private static final int CHUNK = 1 << 20;

    private Md5Baseline() {
    }

    /**
     * Hashes a {@code blockSize}-byte buffer {@code warmups + rounds} times on the calling thread.
     *
     * @return bytes per second of each measured round
     */
    static Samples measure(int blockSize, int warmups, int rounds) {
        byte[] block = new byte[blockSize];
        new SplittableRandom(1).nextBytes(block);
        MessageDigest md5 = newMd5();
        double[] rates = new double[rounds];
        for (int i = -warmups; i < rounds; i++) {
            long start = System.nanoTime();
            for (int off = 0; off < blockSize; off += CHUNK) {
                md5.update(block, off, Math.min(CHUNK, blockSize - off));
            }
            byte[] digest = md5.digest();
            long elapsed = System.nanoTime() - start;
            if (digest.length != 16) {
                throw new IllegalStateException("MD5 gave " + digest.length + " bytes");
            }
            if (i >= 0) {
                rates[i] = blockSize / (elapsed / 1e9);
            }
        }
        return new Samples(rates);
    }

    static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }
}
