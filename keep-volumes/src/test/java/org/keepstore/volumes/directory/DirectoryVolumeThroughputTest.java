package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Locator;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.VolumeContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures 64 MiB writes (fsync included) and reads on a directory volume next to the MD5 speed
 * of {@link MessageDigest} in the same JVM, and logs the figures. It asserts only that the data
 * round-trips: the machine is shared, so speeds are reported, never checked.
 */
class DirectoryVolumeThroughputTest {
    private static final Logger log = LoggerFactory.getLogger(DirectoryVolumeThroughputTest.class);
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
        try (DirectoryVolume volume = new DirectoryVolume(root, VolumeContext.defaults())) {
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
                md5[i] = mbPerSecond(t1 - t0);
                write[i] = mbPerSecond(t2 - t1);
                read[i] = mbPerSecond(t3 - t2);
            }
        }
        log.info("64 MiB blocks, median of {}: MD5 (MessageDigest) {} MB/s, DirectoryVolume write+fsync {} MB/s, "
                + "read (page cache warm) {} MB/s", ROUNDS, median(md5), median(write), median(read));
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
