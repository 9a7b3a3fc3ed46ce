package org.keepstore.core;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.keepstore.core.testing.MutableClock;

/**
 * Prints MB/s of 64 MiB writes and reads through KeepStore over a MemoryVolume next to plain
 * MessageDigest MD5 in the same JVM. No thresholds (shared machines are noisy); run with
 * {@code -Dkeepstore.throughput=true -Dtest=KeepStoreThroughputTest}.
 */
@EnabledIfSystemProperty(named = "keepstore.throughput", matches = "true")
class KeepStoreThroughputTest {
    private static final int ROUNDS = 8;

    @Test
    void measure() throws Exception {
        byte[] data = new byte[Locator.MAX_BLOCK_SIZE];
        new Random(1).nextBytes(data);
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        MutableClock clock = new MutableClock();
        MemoryVolume volume = new MemoryVolume(new VolumeContext(clock, Duration.ZERO, Duration.ofDays(14), VolumeMetrics.NONE));
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor("bench"), volume)), new BufferPool(2),
                new KeepStore.Options(clock, Duration.ofDays(14), true))) {
            BlockSink discard = new BlockSink() {
                @Override
                public void begin(long size) {
                }

                @Override
                public void write(ByteBuffer chunk) {
                    chunk.position(chunk.limit());
                }
            };
            for (int warmup = 0; warmup < 3; warmup++) {
                md5(data);
                store.write(hash, new ByteArrayInputStream(data), data.length, Set.of());
                store.read(hash, discard);
                volume.trash(hash); // so the next write stores a new copy instead of comparing
            }
            long md5Nanos = 0;
            long writeNanos = 0;
            long readNanos = 0;
            for (int i = 0; i < ROUNDS; i++) {
                long t0 = System.nanoTime();
                md5(data);
                long t1 = System.nanoTime();
                long t2 = System.nanoTime();
                store.write(hash, new ByteArrayInputStream(data), data.length, Set.of());
                long t3 = System.nanoTime();
                store.read(hash, discard);
                long t4 = System.nanoTime();
                volume.trash(hash);
                md5Nanos += t1 - t0;
                writeNanos += t3 - t2;
                readNanos += t4 - t3;
            }
            System.out.printf("64 MiB x %d: MessageDigest MD5 %.0f MB/s, KeepStore write %.0f MB/s, read %.0f MB/s%n",
                    ROUNDS, mbps(md5Nanos), mbps(writeNanos), mbps(readNanos));
        }
    }

    private static void md5(byte[] data) throws Exception {
        MessageDigest.getInstance("MD5").digest(data);
    }

    private static double mbps(long nanos) {
        return (double) ROUNDS * Locator.MAX_BLOCK_SIZE / 1e6 / (nanos / 1e9);
    }
}
