package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.Locator;

/**
 * The sample cluster config ({@code config/sample-cluster.yml}) served by the {@code keepstore}
 * command in this JVM: the mounts, classes, replication and tokens it configures, and storage
 * classes over HTTP — {@code X-Keep-Storage-Classes} choosing volumes, the confirmation header,
 * unclassified writes going to the default class, reads visiting the higher-priority class first.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StorageClassesConfigTest {
    private static final String USER = "Bearer " + KeepProtocolContract.USER_TOKEN;
    private static final String ADMIN = "Bearer " + ConfigFixtures.ADMIN_TOKEN;
    private static final String MANAGEMENT = "Bearer " + ConfigFixtures.MANAGEMENT_TOKEN;

    @TempDir
    static Path tmp;

    private final ObjectMapper json = new ObjectMapper();
    private InJvmKeepstore keepstore;
    private TestHttp http;
    private Path[] roots;
    private int seed;

    @BeforeAll
    void start() throws Exception {
        roots = ConfigFixtures.sampleRoots(tmp);
        int port = ServerProcess.freePort();
        keepstore = InJvmKeepstore.start(ConfigFixtures.args(ConfigFixtures.sampleConfig(tmp, port, roots)));
        http = keepstore.awaitHealthy(port, ConfigFixtures.MANAGEMENT_TOKEN);
    }

    @AfterAll
    void stop() throws Exception {
        if (keepstore != null) {
            assertEquals(0, keepstore.stop());
        }
    }

    private byte[] newBlock() {
        return TestHttp.randomBlock(2000, 1000 + seed++);
    }

    private TestHttp.Response put(byte[] data, String classes) throws Exception {
        String path = "/" + TestHttp.md5(data);
        TestHttp.Response r = classes == null ? http.put(path, data, "Authorization", USER)
                : http.put(path, data, "Authorization", USER, "X-Keep-Storage-Classes", classes);
        assertEquals(200, r.status(), r.text());
        return r;
    }

    /** Which of the sample's volume directories hold the block: default, archive, read-only. */
    private List<Boolean> holders(String hash) {
        List<Boolean> held = new ArrayList<>();
        for (Path root : roots) {
            held.add(DirectoryCopies.holds(root, hash));
        }
        return held;
    }

    @Test
    void mountsAreTheConfiguredVolumesWithTheirClassesAndReplication() throws Exception {
        TestHttp.Response r = http.get("/mounts", "Authorization", ADMIN);
        assertEquals(200, r.status(), "SystemRootToken is the admin token");
        JsonNode mounts = json.readTree(r.body());
        assertEquals(3, mounts.size());
        Map<String, JsonNode> byUuid = new HashMap<>();
        mounts.forEach(m -> byUuid.put(m.get("uuid").asText(), m));

        JsonNode standard = byUuid.get(ConfigFixtures.DEFAULT_UUID);
        assertEquals(Map.of("default", true), json.convertValue(standard.get("storage_classes"), Map.class));
        assertEquals(1, standard.get("replication").asInt());
        assertTrue(standard.get("allow_write").asBoolean());
        assertTrue(standard.get("allow_trash").asBoolean());

        JsonNode archive = byUuid.get(ConfigFixtures.ARCHIVE_UUID);
        assertEquals(Map.of("archive", true), json.convertValue(archive.get("storage_classes"), Map.class));
        assertEquals(2, archive.get("replication").asInt());
        assertTrue(archive.get("allow_write").asBoolean());

        JsonNode readOnly = byUuid.get(ConfigFixtures.READ_ONLY_UUID);
        assertFalse(readOnly.get("allow_write").asBoolean());
        assertTrue(readOnly.get("allow_trash").asBoolean(), "AllowTrashWhenReadOnly: true");
        assertEquals(Map.of("default", true), json.convertValue(readOnly.get("storage_classes"), Map.class));

        assertEquals(403, http.get("/mounts", "Authorization", MANAGEMENT).status(), "not an admin token");
    }

    @Test
    void managementTokenGuardsHealthAndMetricsOnly() throws Exception {
        for (String path : List.of("/_health/ping", "/metrics")) {
            assertEquals(401, http.get(path).status(), path);
            assertEquals(403, http.get(path, "Authorization", USER).status(), path);
            assertEquals(403, http.get(path, "Authorization", ADMIN).status(), path);
            TestHttp.Response ok = http.get(path, "Authorization", MANAGEMENT);
            assertEquals(200, ok.status(), path);
            KeepProtocolContract.assertCors(ok);
        }
        assertEquals(200, http.get("/status.json").status(), "status stays open");
    }

    @Test
    void permissionsAreEnforcedWithTheConfiguredKey() throws Exception {
        byte[] data = newBlock();
        String locator = put(data, null).text().trim();
        assertTrue(Locator.parse(locator).signatureHint() != null, "BlobSigningKey signs");
        assertEquals(401, http.get("/" + Locator.parse(locator).withoutSignature()).status(), "BlobSigning: true");
        TestHttp.Response r = http.get("/" + locator, "Authorization", USER);
        assertEquals(200, r.status());
        assertArrayEquals(data, r.body());
    }

    @Test
    void putNamingArchiveLandsOnTheArchiveVolumeOnly() throws Exception {
        byte[] data = newBlock();
        TestHttp.Response r = put(data, "archive");
        assertEquals("archive=2", r.header("X-Keep-Storage-Classes-Confirmed"));
        assertEquals("2", r.header("X-Keep-Replicas-Stored"));
        assertEquals(List.of(false, true, false), holders(TestHttp.md5(data)));
    }

    @Test
    void putNamingNoClassLandsOnTheDefaultClass() throws Exception {
        // The archive volume has the higher priority, so it is first in rendezvous order for every
        // hash; an unclassified write must still go to the default class.
        for (int i = 0; i < 10; i++) {
            byte[] data = newBlock();
            TestHttp.Response r = put(data, null);
            assertEquals("default=1", r.header("X-Keep-Storage-Classes-Confirmed"));
            assertEquals("1", r.header("X-Keep-Replicas-Stored"));
            assertEquals(List.of(true, false, false), holders(TestHttp.md5(data)), "never on the read-only volume");
        }
    }

    @Test
    void putNamingBothClassesWritesBoth() throws Exception {
        byte[] data = newBlock();
        TestHttp.Response r = put(data, "default, archive");
        assertEquals(Set.of("default=1", "archive=2"),
                Set.of(r.header("X-Keep-Storage-Classes-Confirmed").split(", ")));
        assertEquals("3", r.header("X-Keep-Replicas-Stored"));
        assertEquals(List.of(true, true, false), holders(TestHttp.md5(data)));
        assertEquals(507, http.put("/" + TestHttp.md5(data), data, "X-Keep-Storage-Classes", "nonexistent").status());
    }

    @Test
    void readsVisitTheHigherPriorityClassFirst() throws Exception {
        Map<String, String> devices = new HashMap<>();
        for (JsonNode m : json.readTree(http.get("/mounts", "Authorization", ADMIN).body())) {
            devices.put(m.get("uuid").asText(), m.get("device_id").asText());
        }
        for (int i = 0; i < 5; i++) {
            byte[] data = newBlock();
            String locator = put(data, "default,archive").text().trim();
            long archiveBefore = gets(devices.get(ConfigFixtures.ARCHIVE_UUID));
            long defaultBefore = gets(devices.get(ConfigFixtures.DEFAULT_UUID));
            assertEquals(200, http.get("/" + locator, "Authorization", USER).status());
            assertEquals(archiveBefore + 1, gets(devices.get(ConfigFixtures.ARCHIVE_UUID)), "archive (priority 10) read");
            assertEquals(defaultBefore, gets(devices.get(ConfigFixtures.DEFAULT_UUID)), "default (priority 0) not read");
        }
    }

    /** The {@code get} count of a device in {@code /metrics}. */
    private long gets(String deviceId) throws Exception {
        String prefix = "arvados_keepstore_volume_operations{device_id=\"" + deviceId.replace("\\", "\\\\")
                .replace("\"", "\\\"") + "\",operation=\"get\"} ";
        for (String line : http.get("/metrics", "Authorization", MANAGEMENT).text().split("\n")) {
            if (line.startsWith(prefix)) {
                return Long.parseLong(line.substring(prefix.length()).trim());
            }
        }
        return 0;
    }

    @Test
    void blocksOnTheReadOnlyVolumeAreServed() throws Exception {
        byte[] data = newBlock();
        String hash = TestHttp.md5(data);
        Path file = DirectoryCopies.file(roots[2], hash);
        Files.createDirectories(file.getParent());
        Files.write(file, data);
        BlobSigner signer = new BlobSigner(ConfigFixtures.SIGNING_KEY.getBytes(StandardCharsets.UTF_8),
                Duration.ofHours(336), Clock.systemUTC());
        String locator = signer.sign(Locator.of(hash, data.length), KeepProtocolContract.USER_TOKEN).toString();
        TestHttp.Response r = http.get("/" + locator, "Authorization", USER);
        assertEquals(200, r.status());
        assertArrayEquals(data, r.body());
        String index = http.get("/mounts/" + ConfigFixtures.READ_ONLY_UUID + "/blocks", "Authorization", ADMIN).text();
        assertTrue(index.contains(hash + "+" + data.length + " "), index);
    }
}
