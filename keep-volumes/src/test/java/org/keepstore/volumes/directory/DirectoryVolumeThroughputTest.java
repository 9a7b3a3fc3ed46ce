package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlockSink;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.Mount;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.core.testing.MutableClock;

/**
 * Measures 64 MiB writes (fsync included) and reads on a directory volume, directly and through
 * {@link KeepStore}, next to the MD5 speed of {@link MessageDigest} in the same JVM, and prints
 * the medians. Speeds are reported, never asserted (shared machines are noisy); only the data is
 * checked. Reads come from a warm page cache. Run with
 * {@code -Dkeepstore.throughput=true -Dtest=DirectoryVolumeThroughputTest}.
 */
@EnabledIfSystemProperty(named = "keepstore.throughput", matches = "true")
class DirectoryVolumeThroughputTest {
    private static final int ROUNDS = 5;

    @TempDir
    Path root;

    @Test
    void measure64MiBWriteReadAndMd5() throws Exception {
        byte[] data = new byte[Locator.MAX_BLOCK_SIZE];
        new Random(1).nextBytes(data);
        byte[] chunk = new byte[1 << 20];
        double[] md5 = new double[ROUNDS];
        double[] write = new double[ROUNDS];
        double[] read = new double[ROUNDS];
        double[] engineWrite = new double[ROUNDS];
        double[] engineRead = new double[ROUNDS];
        MutableClock clock = new MutableClock();
        VolumeContext context = new VolumeContext(clock, Duration.ZERO, Duration.ofDays(14), VolumeMetrics.NONE);
        DirectoryVolume volume = new DirectoryVolume(root, context);
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor(root.toString()), volume)),
                new BufferPool(1), new KeepStore.Options(clock, Duration.ofDays(14), true))) {
            BlockSink discard = new BlockSink() {
                @Override
                public void begin(long size) {
                }

                @Override
                public void write(ByteBuffer c) {
                    c.position(c.limit());
                }
            };
            for (int i = 0; i < ROUNDS; i++) {
                data[0] = (byte) i; // a different block each round
                long t0 = System.nanoTime();
                String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
                long t1 = System.nanoTime();
                volume.write(hash, ByteBuffer.wrap(data));
                long t2 = System.nanoTime();
                long total = 0;
                try (StoredBlock b = volume.open(hash)) {
                    for (int n; (n = b.stream().read(chunk)) > 0; ) {
                        total += n;
                    }
                }
                long t3 = System.nanoTime();
                assertEquals(data.length, total);
                volume.trash(hash); // lifetime 0: deleted, so the engine stores a fresh copy
                long t4 = System.nanoTime();
                store.write(hash, new ByteArrayInputStream(data), data.length, Set.of());
                long t5 = System.nanoTime();
                assertEquals(data.length, store.read(hash, discard));
                long t6 = System.nanoTime();
                volume.trash(hash);
                md5[i] = mbPerSecond(t1 - t0);
                write[i] = mbPerSecond(t2 - t1);
                read[i] = mbPerSecond(t3 - t2);
                engineWrite[i] = mbPerSecond(t5 - t4);
                engineRead[i] = mbPerSecond(t6 - t5);
            }
        }
        System.out.printf("64 MiB blocks, median of %d: MessageDigest MD5 %d MB/s; DirectoryVolume write+fsync %d MB/s, "
                        + "read %d MB/s; KeepStore over DirectoryVolume write %d MB/s, verified read %d MB/s%n",
                ROUNDS, median(md5), median(write), median(read), median(engineWrite), median(engineRead));
    }

    private static double mbPerSecond(long nanos) {
        return Locator.MAX_BLOCK_SIZE / 1e6 / (nanos / 1e9);
    }

    private static long median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return Math.round(sorted[sorted.length / 2]);
    }
}
