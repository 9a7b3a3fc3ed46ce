package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Mount;

/**
 * {@code keepstore -config FILE} as an operator runs it (the shaded jar in its own process): the
 * sample cluster config with its tokens, classes and warnings, flags next to {@code -config},
 * one-line startup errors, and flag-configured volumes keeping their UUIDs across restarts.
 */
class KeepstoreConfigCommandLineIT {
    private static final String MANAGEMENT = "Bearer " + ConfigFixtures.MANAGEMENT_TOKEN;
    private static final String ADMIN = "Bearer " + ConfigFixtures.ADMIN_TOKEN;

    @TempDir
    Path tmp;

    private final ObjectMapper json = new ObjectMapper();

    /** Like {@link ServerProcess#awaitHealthy} but with the management token the sample config sets. */
    private static TestHttp awaitHealthy(ServerProcess p, int port, String authorization) throws Exception {
        TestHttp http = new TestHttp("127.0.0.1", port);
        for (int i = 0; i < 1200; i++) {
            if (!p.process.isAlive()) {
                throw new AssertionError("keepstore exited with " + p.process.exitValue() + ": " + p.stderrText());
            }
            try {
                if (http.get("/_health/ping", "Authorization", authorization).status() == 200) {
                    return http;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            Thread.sleep(100);
        }
        throw new AssertionError("keepstore never became healthy: " + p.stderrText());
    }

    @Test
    void sampleConfigServesItsVolumesClassesAndTokensAndFlagsOverrideIt() throws Exception {
        Path[] roots = ConfigFixtures.sampleRoots(tmp);
        int port = ServerProcess.freePort();
        Path sample = ConfigFixtures.sampleConfig(tmp, port, roots);
        // A misspelt key next to the real one: warned about, not fatal.
        Path config = ConfigFixtures.write(tmp, "with-typo.yml", Files.readString(sample)
                .replace("      BlobSigningTTL: 336h\n", "      BlobSigningTTL: 336h\n      BlobSigningTtl: 1h\n"));
        try (ServerProcess p = ServerProcess.start(tmp, List.of(), ConfigFixtures.args(config, "-max-buffers=4"))) {
            TestHttp http = awaitHealthy(p, port, MANAGEMENT);
            assertEquals(401, http.get("/_health/ping").status(), "ManagementToken guards health");
            assertEquals(403, http.get("/metrics", "Authorization", ADMIN).status());

            JsonNode mounts = json.readTree(http.get("/mounts", "Authorization", ADMIN).body());
            Map<String, String> summary = new TreeMap<>();
            for (JsonNode m : mounts) {
                summary.put(m.get("uuid").asText(), m.get("storage_classes").fieldNames().next() + " r"
                        + m.get("replication").asInt() + (m.get("allow_write").asBoolean() ? " rw" : " ro"));
            }
            assertEquals(Map.of(ConfigFixtures.DEFAULT_UUID, "default r1 rw", ConfigFixtures.ARCHIVE_UUID,
                    "archive r2 rw", ConfigFixtures.READ_ONLY_UUID, "default r1 ro"), summary);

            byte[] data = TestHttp.randomBlock(5000, 77);
            String hash = TestHttp.md5(data);
            TestHttp.Response r = http.put("/" + hash, data, "X-Keep-Storage-Classes", "archive");
            assertEquals(200, r.status(), r.text());
            assertEquals("archive=2", r.header("X-Keep-Storage-Classes-Confirmed"));
            assertFalse(DirectoryCopies.holds(roots[0], hash));
            assertTrue(DirectoryCopies.holds(roots[1], hash));

            JsonNode status = json.readTree(http.get("/status.json").body());
            assertEquals(4, status.get("BufferPool").get("BuffersMax").asInt(), "-max-buffers overrides the config");

            assertEquals(0, p.terminate());
            String log = p.stderrText();
            assertTrue(log.contains("unknown key Clusters.zzzzz.Collections.BlobSigningTtl"), log);
            assertTrue(log.contains("-max-buffers 4 overrides API.MaxKeepBlobBuffers (8)"), log);
            assertTrue(log.contains("volume " + ConfigFixtures.ARCHIVE_UUID + " Directory " + roots[1]
                    + ": writable, replication 2, storage classes archive, priority 10"), log);
            assertFalse(log.contains(ConfigFixtures.SIGNING_KEY), "never log the key");
            assertFalse(log.contains(ConfigFixtures.ADMIN_TOKEN), "never log tokens");
            assertFalse(log.contains(ConfigFixtures.MANAGEMENT_TOKEN), "never log tokens");
        }
    }

    @Test
    void missingRequiredSettingsAreOneLineErrorsBeforeListening() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("vol"));
        String head = """
                Clusters:
                  zzzzz:
                    Services:
                      Keepstore:
                        InternalURLs: {"http://127.0.0.1:%d": {}}
                """.formatted(ServerProcess.freePort());
        Map<String, String> cases = new TreeMap<>(Map.of(
                "no-driver.yml", head + "    Collections: {BlobSigning: false}\n    Volumes:\n"
                        + "      zzzzz-nyw5e-000000000000001: {DriverParameters: {Root: " + root + "}}\n",
                "no-root.yml", head + "    Collections: {BlobSigning: false}\n    Volumes:\n"
                        + "      zzzzz-nyw5e-000000000000001: {Driver: Directory}\n",
                "no-key.yml", head + "    Volumes:\n"
                        + "      zzzzz-nyw5e-000000000000001: {Driver: Directory, DriverParameters: {Root: " + root
                        + "}}\n",
                "no-volumes.yml", head + "    Collections: {BlobSigning: false}\n"));
        Map<String, String> expected = Map.of(
                "no-driver.yml", "Volumes.zzzzz-nyw5e-000000000000001.Driver is missing",
                "no-root.yml", "DriverParameters.Root is missing",
                "no-key.yml", "Collections.BlobSigning is true but",
                "no-volumes.yml", "no volume belongs to this server");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path config = ConfigFixtures.write(tmp, c.getKey(), c.getValue());
            try (ServerProcess p = ServerProcess.start(tmp, List.of(), ConfigFixtures.args(config))) {
                assertEquals(1, p.waitForExit(), c.getKey());
                List<String> err = p.stderrText().lines().filter(l -> !l.isBlank()).toList();
                assertEquals(1, err.size(), c.getKey() + ": " + err);
                assertTrue(err.get(0).startsWith("keepstore: -config " + config + ": "), err.get(0));
                assertTrue(err.get(0).contains(expected.get(c.getKey())), err.get(0));
            }
        }
    }

    @Test
    void flagVolumesKeepTheirUuidsAcrossRestarts() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("disk-a/keep"));
        Path b = Files.createDirectories(tmp.resolve("disk-b/keep"));
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", ConfigFixtures.ADMIN_TOKEN);
        byte[] data = "survives a restart".getBytes();
        List<List<String>> seen = new ArrayList<>();
        for (int start = 0; start < 2; start++) {
            int port = ServerProcess.freePort();
            try (ServerProcess p = ServerProcess.start(tmp, List.of(), List.of("-listen=127.0.0.1:" + port,
                    "-volume=" + a, "-volume=" + b, "-data-manager-token-file=" + token))) {
                TestHttp http = p.awaitHealthy(port);
                List<String> uuids = new ArrayList<>();
                for (JsonNode m : json.readTree(http.get("/mounts", "Authorization", ADMIN).body())) {
                    uuids.add(m.get("uuid").asText());
                }
                seen.add(uuids);
                if (start == 0) {
                    assertEquals(200, http.put("/" + TestHttp.md5(data), data).status());
                } else {
                    assertEquals(200, http.get("/" + TestHttp.md5(data) + "+" + data.length).status());
                }
                assertEquals(0, p.terminate());
            }
        }
        assertEquals(List.of(Mount.uuidFor(a.toString()), Mount.uuidFor(b.toString())), seen.get(0));
        assertEquals(seen.get(0), seen.get(1), "the same UUIDs on every start");
        for (String uuid : seen.get(0)) {
            assertTrue(uuid.matches("zzzzz-nyw5e-[a-z0-9]{15}"), uuid);
        }
    }
}
