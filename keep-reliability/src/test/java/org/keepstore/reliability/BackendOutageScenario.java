package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.server.ServerProcess;

/**
 * A storage-service emulator stops answering under running servers, first frozen (SIGSTOP:
 * connections hang) and then killed (connections refused), and comes back at the same address.
 * Two servers watch it: one with a cloud and a directory volume (writes fail over, reads of blocks
 * only in the cloud fail with 503), one with only the cloud volume (503). Every request ends within
 * the volume's timeouts, health stays OK, and both recover without a restart; the time from the
 * emulator's return to the first good read is measured. Subclasses pick the emulator.
 */
abstract class BackendOutageScenario {
    private static final String ADMIN_TOKEN = "outage-admin-token-0123456789abcdef";
    private static final String CLOUD_UUID = "zzzzz-nyw5e-cloudoutage0000";
    private static final String DIR_UUID = "zzzzz-nyw5e-dirvolume000000";
    private static final String SOLO_UUID = "zzzzz-nyw5e-cloudsolo000000";
    /** The volume's request timeout; S3 overrides it because its driver retries a timeout 4 times. */
    int timeoutSeconds() {
        return 5;
    }

    @TempDir
    Path tmp;

    /** Starts the emulator (or skips the test where it cannot run). */
    abstract Emulator startEmulator(Path home) throws Exception;

    @Test
    void serversSurviveAndRecoverFromAnOutage() throws Exception {
        Random random = new Random();
        try (Emulator emulator = startEmulator(tmp.resolve("emulator"))) {
            String name = emulator.driver().toLowerCase(java.util.Locale.ROOT);
            emulator.createContainer("outage-mixed");
            emulator.createContainer("outage-solo");
            Path dir = Files.createDirectories(tmp.resolve("dirvol"));
            int mixedPort = ServerProcess.freePort();
            int soloPort = ServerProcess.freePort();
            try (Keepstore mixed = startWithConfig(
                    config(emulator, "mixed", mixedPort, "outage-mixed", CLOUD_UUID, dir), mixedPort);
                 Keepstore solo = startWithConfig(
                         config(emulator, "solo", soloPort, "outage-solo", SOLO_UUID, null), soloPort)) {
                List<Mounts.MountInfo> mounts = Mounts.list(mixed.http, ADMIN_TOKEN);
                Mounts.MountInfo cloudMount = mounts.stream().filter(m -> m.uuid().equals(CLOUD_UUID)).findFirst()
                        .orElseThrow();
                // Blocks whose only copy is in the cloud volume, one stored on the cloud-only server.
                List<String> inCloud = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    byte[] data = firstOn(cloudMount, mounts, random);
                    inCloud.add(mixed.http.putBlock(data));
                }
                String soloBlock = solo.http.putBlock(Http.randomBlock(10_000, random));
                assertNotNull(soloBlock);

                emulator.freeze();
                long hungMillis = outage(mixed, solo, inCloud, soloBlock, mounts, cloudMount, random);
                emulator.thaw();
                long recoverAfterThaw = timeToRecover(mixed, solo, inCloud.get(0), soloBlock);

                emulator.kill();
                long downMillis = outage(mixed, solo, inCloud, soloBlock, mounts, cloudMount, random);
                long restartedAt = System.nanoTime();
                emulator.launch();
                long emulatorStartMillis = (System.nanoTime() - restartedAt) / 1_000_000;
                long recoverAfterRestart = timeToRecover(mixed, solo, inCloud.get(0), soloBlock);

                // Everything stored before the outage is back, and writes reach the cloud volume again.
                for (String locator : inCloud) {
                    assertEquals(200, mixed.http.get("/" + locator).status());
                }
                byte[] data = firstOn(cloudMount, mounts, random);
                assertNotNull(mixed.http.putBlock(data));
                String index = mixed.http.get("/mounts/" + CLOUD_UUID + "/blocks", "Authorization",
                        "Bearer " + ADMIN_TOKEN).text();
                assertTrue(index.contains(Http.md5(data)), "a write after recovery went to the cloud, its first choice");
                String metrics = mixed.http.get("/metrics").text();
                double errors = Metrics.sum(metrics, "arvados_keepstore_volume_errors");
                assertTrue(errors > 0, "the outage was counted in arvados_keepstore_volume_errors");
                assertTrue(mixed.process.isAlive() && solo.process.isAlive());

                Suite.figure(name + " outage: slowest failed request while frozen (ms, timeouts "
                        + timeoutSeconds() + "s)", hungMillis);
                Suite.figure(name + " outage: slowest failed request while down (ms)", downMillis);
                Suite.figure(name + " outage: time to first good read after the frozen emulator resumed (ms)",
                        recoverAfterThaw);
                Suite.figure(name + " outage: time to first good read after the emulator answered again (ms)",
                        recoverAfterRestart + " (emulator restart itself took " + emulatorStartMillis + " ms)");
                Suite.figure(name + " outage: volume errors counted on the mixed server", errors);
            }
        }
    }

    /**
     * Requests against both servers while the emulator does not answer: the mixed server fails writes
     * over to its directory volume, reads of blocks only in the cloud fail with 503, everything else
     * works; the cloud-only server answers 503. Returns the slowest failing request in ms. A write
     * may take up to twice RequestTimeout: the existence check and the write each wait for it.
     */
    private long outage(Keepstore mixed, Keepstore solo, List<String> inCloud, String soloBlock,
                               List<Mounts.MountInfo> mounts, Mounts.MountInfo cloudMount, Random random)
            throws Exception {
        long slowest = 0;
        int rounds = Suite.setting("keepstore.outage.rounds", 1, 3);
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            Http.Response r = mixed.http.get("/" + inCloud.get(i));
            slowest = Math.max(slowest, (System.nanoTime() - start) / 1_000_000);
            assertEquals(503, r.status(), "a block only in the unreachable volume: " + r.text());

            byte[] data = firstOn(cloudMount, mounts, random);
            start = System.nanoTime();
            Http.Response put = mixed.http.put("/" + Http.md5(data), data);
            slowest = Math.max(slowest, (System.nanoTime() - start) / 1_000_000);
            assertEquals(200, put.status(), "a write whose first choice is down fails over: " + put.text());

            start = System.nanoTime();
            r = solo.http.get("/" + soloBlock);
            slowest = Math.max(slowest, (System.nanoTime() - start) / 1_000_000);
            assertEquals(503, r.status(), "only volume unreachable: " + r.text());
            data = Http.randomBlock(1000, random);
            start = System.nanoTime();
            put = solo.http.put("/" + Http.md5(data), data);
            slowest = Math.max(slowest, (System.nanoTime() - start) / 1_000_000);
            assertEquals(503, put.status(), "no usable volume: " + put.text());

            assertEquals(200, mixed.http.get("/_health/ping").status());
            assertEquals(200, solo.http.get("/_health/ping").status());
            assertEquals(200, solo.http.get("/status.json").status());
        }
        return slowest;
    }

    /** Polls reads through both servers until they succeed again; the time that took in ms. */
    private static long timeToRecover(Keepstore mixed, Keepstore solo, String cloudBlock, String soloBlock)
            throws Exception {
        long start = System.nanoTime();
        boolean mixedOk = false;
        boolean soloOk = false;
        for (int i = 0; i < 1200 && !(mixedOk && soloOk); i++) {
            mixedOk = mixedOk || mixed.http.get("/" + cloudBlock).status() == 200;
            soloOk = soloOk || solo.http.get("/" + soloBlock).status() == 200;
            if (!(mixedOk && soloOk)) {
                Thread.sleep(50);
            }
        }
        assertTrue(mixedOk && soloOk, "both servers serve cloud blocks again without a restart");
        return (System.nanoTime() - start) / 1_000_000;
    }

    private Keepstore startWithConfig(Path config, int port) throws Exception {
        return Keepstore.startOnPort(tmp, config.getFileName().toString().replace(".yml", ""), port,
                List.of(), List.of("-config", config.toString()));
    }

    private Path config(Emulator emulator, String name, int port, String container, String cloudUuid,
                        Path dir) throws Exception {
        StringBuilder yaml = new StringBuilder("""
                Clusters:
                  zzzzz:
                    SystemRootToken: %s
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://127.0.0.1:%d/": {}
                    API:
                      MaxKeepBlobBuffers: 4
                    Collections:
                      BlobSigning: false
                    Volumes:
                      %s:
                        Driver: %s
                        Replication: 1
                        DriverParameters:
                """.formatted(ADMIN_TOKEN, port, cloudUuid, emulator.driver()));
        yaml.append(emulator.driverParameters(container, timeoutSeconds()));
        if (dir != null) {
            yaml.append("      ").append(DIR_UUID).append(":\n")
                    .append("        Driver: Directory\n")
                    .append("        Replication: 1\n")
                    .append("        DriverParameters:\n")
                    .append("          Root: ").append(dir).append("\n");
        }
        Path file = tmp.resolve(name + ".yml");
        Files.writeString(file, yaml.toString());
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static byte[] firstOn(Mounts.MountInfo target, List<Mounts.MountInfo> mounts, Random random) {
        while (true) {
            byte[] data = Http.randomBlock(1 + random.nextInt(50_000), random);
            if (Mounts.rendezvous(Http.md5(data), mounts).get(0).equals(target)) {
                return data;
            }
        }
    }
}
