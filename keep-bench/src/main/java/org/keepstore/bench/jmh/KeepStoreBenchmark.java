package org.keepstore.bench.jmh;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.keepstore.core.BlockSink;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.keepstore.core.WriteResult;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The engine end to end without HTTP: {@link KeepStore#write} of a block arriving as a stream
 * (buffered, hashed, stored) and {@link KeepStore#read} (read, hashed, delivered to a sink),
 * over a memory volume and a directory volume. Against {@link Md5Benchmark} this shows what
 * the engine adds to the hashing every block needs. Every write stores new content (the
 * previous block is deleted first, untimed), so it measures a real store, not a touch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class KeepStoreBenchmark {

    @Param({"Memory", "Directory"})
    public String volumeDriver;

    @Param({"67108864", "1024"})
    public int blockSize;

    private Path root;
    private Volume volume;
    private KeepStore store;
    private byte[] data;
    private String hash;
    private String storedHash;
    private String lastWritten;
    private long counter;
    private MessageDigest md5;

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException, NoSuchAlgorithmException {
        if (volumeDriver.equals("Directory")) {
            root = BenchmarkVolumes.freshDirectory();
            volume = BenchmarkVolumes.directory(root);
        } else {
            volume = VolumeDriver.forName(volumeDriver).create(Map.of(), VolumeContext.defaults());
        }
        store = new KeepStore(List.of(Mount.of(Mount.uuidFor("bench-" + volumeDriver), volume)),
                new BufferPool(2), KeepStore.Options.defaults());
        md5 = MessageDigest.getInstance("MD5");
        data = new byte[blockSize];
        new SplittableRandom(3).nextBytes(data);
        nextContent();
        storedHash = hash;
        store.write(storedHash, new ByteArrayInputStream(data), data.length, Set.of());
    }

    /** New content and its hash for the next write; removes the previous write's block. */
    @Setup(Level.Invocation)
    public void nextContent() throws IOException {
        if (lastWritten != null) {
            volume.trash(lastWritten);
            lastWritten = null;
        }
        ByteBuffer.wrap(data).putLong(++counter);
        hash = HexFormat.of().formatHex(md5.digest(data));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        BenchmarkVolumes.delete(root);
    }

    @Benchmark
    public WriteResult write() throws IOException, InterruptedException {
        lastWritten = hash;
        return store.write(hash, new ByteArrayInputStream(data), data.length, Set.of());
    }

    @Benchmark
    public long read(Blackhole blackhole) throws IOException, InterruptedException {
        return store.read(storedHash, new BlockSink() {
            @Override
            public void begin(long size) {
                blackhole.consume(size);
            }

            @Override
            public void write(ByteBuffer chunk) {
                blackhole.consume(chunk.remaining());
            }
        });
    }
}
