package org.keepstore.volumes.azure;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.keepstore.core.Locator;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;

/**
 * Prints MB/s of single-stream 64 MiB writes and reads on an Azure volume over Azurite, with one
 * GET per block and with 8 MiB ranged GETs. No thresholds (shared machines are noisy); run with
 * {@code -Dkeepstore.throughput=true -Dtest=AzureThroughputTest}.
 */
@EnabledIfSystemProperty(named = "keepstore.throughput", matches = "true")
class AzureThroughputTest {
    private static final int ROUNDS = 5;
    private Azurite azurite;

    @AfterEach
    void cleanUp() {
        if (azurite != null) {
            azurite.deleteContainers();
        }
    }

    @Test
    void measure() throws Exception {
        azurite = Azurite.fromEnvironment();
        byte[] data = new byte[Locator.MAX_BLOCK_SIZE];
        new Random(1).nextBytes(data);
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        for (Map<String, Object> extra : List.of(Map.<String, Object>of(), Map.<String, Object>of("MaxGetBytes", 8 << 20))) {
            try (Volume v = new AzureVolumeDriver().create(azurite.parameters(azurite.newContainer(), extra),
                    VolumeContext.defaults())) {
                long writeNanos = 0;
                long readNanos = 0;
                byte[] chunk = new byte[1 << 20];
                for (int i = 0; i < ROUNDS + 1; i++) {
                    long t0 = System.nanoTime();
                    v.write(hash, ByteBuffer.wrap(data));
                    long t1 = System.nanoTime();
                    long total = 0;
                    try (StoredBlock b = v.open(hash); InputStream in = b.stream()) {
                        for (int n; (n = in.read(chunk)) > 0; ) {
                            total += n;
                        }
                    }
                    long t2 = System.nanoTime();
                    assertEquals(data.length, total);
                    if (i > 0) { // the first round warms up the JIT and connections
                        writeNanos += t1 - t0;
                        readNanos += t2 - t1;
                    }
                }
                double mb = (double) ROUNDS * data.length / 1e6;
                System.out.printf("Azure volume %s: write %.0f MB/s, read %.0f MB/s%n",
                        extra.isEmpty() ? "one GET" : "8 MiB ranged GETs", mb / (writeNanos / 1e9),
                        mb / (readNanos / 1e9));
            }
        }
    }
}
