package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Locator;
import org.keepstore.volumes.azure.Azurite;

/**
 * End to end through a server process whose only volume is one Azure container on Azurite,
 * configured with legacy flags at their defaults (replication 3) plus a one-second signature
 * TTL and a one-hour trash lifetime, so blocks can be trashed and restored within a test: the
 * container then holds what a reference server would have written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureServerIT {
    private static final String ADMIN_TOKEN = "admin-token-for-azure-tests";
    /** Azurite stamps Last-Modified in whole seconds; waits are just over that. */
    private static final long STAMP_STEP_MILLIS = 1100;

    @TempDir
    static Path tmp;

    private Azurite azurite;
    private String container;
    private ServerProcess server;
    private TestHttp http;
    private int port;

    @BeforeAll
    void start() throws Exception {
        azurite = Azurite.fromEnvironment();
        container = azurite.newContainer();
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", ADMIN_TOKEN);
        port = ServerProcess.freePort();
        List<String> args = new ArrayList<>(List.of("-listen=127.0.0.1:" + port, "-data-manager-token-file=" + token,
                "-never-delete=false", "-blob-signature-ttl=1", "-trash-lifetime=1h", "-max-buffers=4"));
        args.addAll(BackendFlags.azureAccount(azurite, tmp));
        args.add("-azure-storage-container-volume=" + container);
        server = ServerProcess.start(tmp, List.of(), args);
        http = server.awaitHealthy(port);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (azurite != null) {
            azurite.close();
        }
    }

    private String admin() {
        return "Bearer " + ADMIN_TOKEN;
    }

    private Map<String, String> metadata(String hash) {
        return azurite.container(container).getBlobClient(hash).getProperties().getMetadata();
    }

    /** The index line's mtime for {@code hash}, or -1 if it is not listed. */
    private long indexedMtime(String hash) throws Exception {
        TestHttp.Response r = http.get("/index/" + hash.substring(0, 3), "Authorization", admin());
        assertEquals(200, r.status());
        assertTrue(r.text().endsWith("\n\n") || r.text().equals("\n"), "completeness marker: " + r.text());
        Matcher m = Pattern.compile("(?m)^" + hash + "\\+\\d+ (\\d+)$").matcher(r.text());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    @Test
    void putGetHeadIndexTrashUntrash() throws Exception {
        byte[] data = TestHttp.randomBlock(123_456, 42);
        String hash = TestHttp.md5(data);
        String locator = hash + "+" + data.length;

        TestHttp.Response put = http.put("/" + hash, data);
        assertEquals(200, put.status(), put.text());
        assertEquals(locator + "\n", put.text());
        assertEquals("3", put.header("X-Keep-Replicas-Stored"), "legacy Azure replication default");
        assertArrayEquals(data, azurite.container(container).getBlobClient(hash).downloadContent().toBytes(),
                "stored as a blob named by the hash");

        TestHttp.Response get = http.get("/" + locator);
        assertEquals(200, get.status());
        assertArrayEquals(data, get.body());
        TestHttp.Response head = http.send("HEAD", "/" + locator, null);
        assertEquals(200, head.status());
        assertEquals(Integer.toString(data.length), head.header("Content-Length"));
        assertTrue(indexedMtime(hash) > 0);

        // Older than the one-second signature TTL, so DELETE really trashes it.
        Thread.sleep(2 * STAMP_STEP_MILLIS);
        long beforeTrash = System.currentTimeMillis() / 1000;
        assertEquals(200, http.send("DELETE", "/" + locator, null, "Authorization", admin()).status());
        assertEquals(404, http.get("/" + locator).status());
        assertEquals(404, http.send("HEAD", "/" + locator, null).status());
        assertEquals(-1, indexedMtime(hash));
        long expiresAt = Long.parseLong(metadata(hash).get("expires_at"));
        assertTrue(expiresAt >= beforeTrash + 3600 && expiresAt <= beforeTrash + 3600 + 60, "expires_at " + expiresAt);

        assertEquals(200, http.put("/untrash/" + locator, new byte[0], "Authorization", admin()).status());
        assertNull(metadata(hash).get("expires_at"));
        assertArrayEquals(data, http.get("/" + locator).body());
        assertTrue(indexedMtime(hash) > 0);
        assertEquals(404, http.put("/untrash/" + locator, new byte[0], "Authorization", admin()).status());
    }

    @Test
    void touchMovesTheIndexedMtimeForward() throws Exception {
        byte[] data = TestHttp.randomBlock(1000, 7);
        String hash = TestHttp.md5(data);
        assertEquals(200, http.put("/" + hash, data).status());
        long written = indexedMtime(hash);
        Thread.sleep(STAMP_STEP_MILLIS);
        assertEquals(200, http.send("TOUCH", "/" + hash + "+1000", null, "Authorization", admin()).status());
        assertTrue(indexedMtime(hash) > written);
    }

    @Test
    void mountsShowTheAzureDeviceWithoutTheKey() throws Exception {
        TestHttp.Response r = http.get("/mounts", "Authorization", admin());
        assertEquals(200, r.status());
        assertTrue(r.text().contains("\"device_id\":\"azure://"), r.text());
        assertTrue(r.text().contains(container), r.text());
        assertFalse(r.text().contains(azurite.key));
        assertFalse(server.stderrText().contains(azurite.key), "the account key is never logged");
        assertFalse(server.stdoutText().contains(azurite.key), "the account key is never logged");
    }

    /**
     * Prints single-stream MB/s of 64 MiB PUTs and GETs through the server. No thresholds; run
     * with {@code -Dkeepstore.throughput=true -Dit.test=AzureServerIT}.
     */
    @Test
    @EnabledIfSystemProperty(named = "keepstore.throughput", matches = "true")
    void throughputOf64MiBBlocks() throws Exception {
        int rounds = 5;
        byte[] data = TestHttp.randomBlock(Locator.MAX_BLOCK_SIZE, 64);
        String hash = TestHttp.md5(data);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(30)).build();
        java.net.URI uri = http.uri("/" + hash + "+" + data.length);
        long putNanos = 0;
        long getNanos = 0;
        byte[] chunk = new byte[1 << 20];
        for (int i = 0; i <= rounds; i++) {
            // Remove the stored copy so every PUT really writes 64 MiB to Azure.
            azurite.container(container).getBlobClient(hash).deleteIfExists();
            long t0 = System.nanoTime();
            HttpResponse<String> put = client.send(HttpRequest.newBuilder(uri)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString());
            long t1 = System.nanoTime();
            assertEquals(200, put.statusCode(), put.body());
            HttpResponse<InputStream> get = client.send(HttpRequest.newBuilder(uri).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            // The bytes are checked in the warm-up round only, to time the server rather than our MD5.
            MessageDigest md5 = i == 0 ? MessageDigest.getInstance("MD5") : null;
            long total = 0;
            try (InputStream in = get.body()) {
                for (int n; (n = in.read(chunk)) > 0; ) {
                    if (md5 != null) {
                        md5.update(chunk, 0, n);
                    }
                    total += n;
                }
            }
            long t2 = System.nanoTime();
            assertEquals(200, get.statusCode());
            assertEquals(data.length, total);
            if (md5 != null) {
                assertEquals(hash, HexFormat.of().formatHex(md5.digest()));
            }
            if (i > 0) { // the first round warms up both JVMs and the connections
                putNanos += t1 - t0;
                getNanos += t2 - t1;
            }
        }
        double mb = (double) rounds * data.length / 1e6;
        System.out.printf("keepstore on Azurite, single stream, 64 MiB blocks: PUT %.0f MB/s, GET %.0f MB/s%n",
                mb / (putNanos / 1e9), mb / (getNanos / 1e9));
    }
}
