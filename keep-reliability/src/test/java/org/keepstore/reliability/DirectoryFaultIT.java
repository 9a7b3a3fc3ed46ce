package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.volumes.directory.SmallFilesystem;

/**
 * I/O errors injected under one directory volume of a running server: the volume's filesystem
 * remounted read-only, then a block file replaced by a directory. Errors are reported for that
 * volume only (log lines naming it, {@code arvados_keepstore_volume_errors} with its device id),
 * writes fail over to the other volume, and the other volume is unaffected.
 */
class DirectoryFaultIT {
    private static final String ADMIN_TOKEN = "fault-admin-token-0123456789abcdef";
    private static final String ERRORS = "arvados_keepstore_volume_errors";

    @TempDir
    Path tmp;

    private Path bindMount;

    @AfterEach
    void unmount() throws Exception {
        if (bindMount != null && SmallFilesystem.run(List.of("umount", bindMount.toString())) != 0) {
            SmallFilesystem.run(List.of("umount", "-l", bindMount.toString()));
        }
    }

    @Test
    void ioErrorsAreReportedPerVolumeAndDoNotAffectTheOther() throws Exception {
        Path backing = Files.createDirectories(tmp.resolve("backingA"));
        Path volA = Files.createDirectories(tmp.resolve("volA"));
        int rc = SmallFilesystem.run(List.of("mount", "--bind", backing.toString(), volA.toString()));
        Assumptions.assumeTrue(rc == 0, "cannot bind-mount here (needs root): skipping the injected I/O error test");
        bindMount = volA;
        Path volB = Files.createDirectories(tmp.resolve("volB"));
        Path token = Suite.secretFile(tmp, "admin-token", ADMIN_TOKEN);
        Random random = new Random();
        try (Keepstore server = Keepstore.start(tmp, "faults", List.of(), List.of(
                "-volume=" + volA, "-volume=" + volB, "-data-manager-token-file=" + token, "-max-buffers=4"))) {
            List<Mounts.MountInfo> mounts = Mounts.list(server.http, ADMIN_TOKEN);
            Mounts.MountInfo a = mounts.get(0);
            Mounts.MountInfo b = mounts.get(1);
            Map<String, String> onA = new LinkedHashMap<>();
            Map<String, String> onB = new LinkedHashMap<>();
            for (int i = 0; i < 10; i++) {
                byte[] data = firstOn(a, mounts, random);
                onA.put(Http.md5(data), server.http.putBlock(data));
                data = firstOn(b, mounts, random);
                onB.put(Http.md5(data), server.http.putBlock(data));
            }
            assertEquals(0.0, Metrics.sum(metrics(server), ERRORS), "no errors before the faults");

            // Fault 1: A's filesystem becomes read-only under the running server.
            assertEquals(0, SmallFilesystem.run(List.of("mount", "-o", "remount,bind,ro", volA.toString())));
            List<String> failedOver = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                byte[] data = firstOn(a, mounts, random);
                String locator = server.http.putBlock(data);
                assertNotNull(locator, "a write whose first choice is the read-only volume fails over");
                assertTrue(Files.exists(volB.resolve(Http.md5(data).substring(0, 3)).resolve(Http.md5(data))));
                failedOver.add(locator);
            }
            assertServed(server, onA);
            assertServed(server, onB);
            String text = metrics(server);
            double errorsA = Metrics.sum(text, ERRORS, Metrics.label("device_id", a.deviceId()));
            assertTrue(errorsA >= 10, "each failed write on A counted for A: " + errorsA);
            assertEquals(0.0, Metrics.sum(text, ERRORS, Metrics.label("device_id", b.deviceId())), "B has no errors");
            assertTrue(server.logText().lines().anyMatch(l -> l.contains("WARN") && l.contains(volA.toString())),
                    "a warning names the failing volume");
            assertEquals(0, SmallFilesystem.run(List.of("mount", "-o", "remount,bind,rw", volA.toString())));

            // Fault 2: a block file on A replaced by a directory (a damaged tree, a bad restore).
            String victim = onA.keySet().iterator().next();
            Path file = volA.resolve(victim.substring(0, 3)).resolve(victim);
            Files.delete(file);
            Files.createDirectory(file);
            Http.Response r = server.http.get("/" + onA.get(victim));
            assertTrue(r.status() >= 500 && r.status() != 502, "a read error is an error, not 404 or data: "
                    + r.status() + " " + r.text());
            text = metrics(server);
            assertTrue(Metrics.sum(text, ERRORS, Metrics.label("device_id", a.deviceId())) > errorsA,
                    "the read error counted for A");
            assertEquals(0.0, Metrics.sum(text, ERRORS, Metrics.label("device_id", b.deviceId())), "B has no errors");
            onA.remove(victim);
            assertServed(server, onA);
            assertServed(server, onB);
            assertEquals(200, server.http.get("/_health/ping").status());
            // The index of the damaged volume does not list the directory as a block.
            Http.Response index = server.http.get("/mounts/" + a.uuid() + "/blocks",
                    "Authorization", "Bearer " + ADMIN_TOKEN);
            assertFalse(index.text().contains(victim), "a directory is not listed as a block");
            Suite.figure("directory faults: failed-over writes with A read-only", failedOver.size());
            Suite.figure("directory faults: errors counted for A / for B",
                    Metrics.sum(text, ERRORS, Metrics.label("device_id", a.deviceId())) + " / 0");
        }
    }

    private static String metrics(Keepstore server) throws Exception {
        Http.Response r = server.http.get("/metrics");
        assertEquals(200, r.status());
        return r.text();
    }

    private static void assertServed(Keepstore server, Map<String, String> blocks) throws Exception {
        for (Map.Entry<String, String> e : blocks.entrySet()) {
            Http.Response r = server.http.get("/" + e.getValue());
            assertEquals(200, r.status(), e.getKey() + " " + r.text());
            assertEquals(e.getKey(), Http.md5(r.body()));
        }
    }

    private static byte[] firstOn(Mounts.MountInfo target, List<Mounts.MountInfo> mounts, Random random) {
        while (true) {
            byte[] data = Http.randomBlock(1 + random.nextInt(100_000), random);
            if (Mounts.rendezvous(Http.md5(data), mounts).get(0).equals(target)) {
                return data;
            }
        }
    }
}
