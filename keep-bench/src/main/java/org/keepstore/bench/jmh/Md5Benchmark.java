package org.keepstore.bench.jmh;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The baseline every other figure is read against: one core hashing a 64 MiB block with
 * {@link MessageDigest} MD5 in 1 MiB chunks, as a keepstore must for every block it stores or
 * serves. One operation is one 64 MiB block, so MB/s = ops/s × 67.1.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class Md5Benchmark {
    static final int BLOCK = 64 << 20;
    static final int CHUNK = 1 << 20;

    private byte[] block;
    private MessageDigest md5;

    @Setup
    public void setUp() throws NoSuchAlgorithmException {
        block = new byte[BLOCK];
        new SplittableRandom(8).nextBytes(block);
        md5 = MessageDigest.getInstance("MD5");
    }

    @Benchmark
    public byte[] md5Of64MiBIn1MiBChunks() {
        for (int off = 0; off < BLOCK; off += CHUNK) {
            md5.update(block, off, CHUNK);
        }
        return md5.digest();
    }
}
