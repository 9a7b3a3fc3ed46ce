package org.keepstore.bench.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The directory volume on its own (no hashing): an atomic, durable write (temp file, fsync,
 * rename, directory fsync) and a read of a whole block, for 64 MiB and 1 KiB blocks. Set
 * {@code -Dkeepstore.bench.dir=DIR} (via {@code -jvmArgs}) to measure another disk.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DirectoryVolumeBenchmark {
    /** Writes rotate over this many names, so each replaces an older file as in steady state. */
    private static final int NAMES = 16;

    @Param({"67108864", "1024"})
    public int blockSize;

    private Path root;
    private Volume volume;
    private ByteBuffer data;
    private String[] hashes;
    private byte[] readBuffer;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        root = BenchmarkVolumes.freshDirectory();
        volume = BenchmarkVolumes.directory(root);
        byte[] bytes = new byte[blockSize];
        SplittableRandom random = new SplittableRandom(1);
        random.nextBytes(bytes);
        data = ByteBuffer.wrap(bytes);
        hashes = new String[NAMES];
        byte[] name = new byte[16];
        for (int i = 0; i < NAMES; i++) {
            random.nextBytes(name);
            // The volume stores what it is given; the engine, not the volume, checks hashes.
            hashes[i] = HexFormat.of().formatHex(name);
            volume.write(hashes[i], data.duplicate());
        }
        readBuffer = new byte[1 << 20];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        volume.close();
        BenchmarkVolumes.delete(root);
    }

    @Benchmark
    public void write() throws IOException {
        volume.write(hashes[next++ % NAMES], data.duplicate());
    }

    @Benchmark
    public long read() throws IOException {
        long total = 0;
        try (StoredBlock block = volume.open(hashes[next++ % NAMES]); InputStream in = block.stream()) {
            int n;
            while ((n = in.read(readBuffer)) > 0) {
                total += n;
            }
        }
        return total;
    }
}
