package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.volumes.s3.S3TestServer;

/**
 * A server process with only an S3 volume (legacy {@code -s3-*} flags) through a block's whole
 * life: PUT, GET, HEAD, index, TOUCH, DELETE into trash, untrash, and pull from another server;
 * and, opt-in, its 64 MiB throughput next to a directory volume's.
 * The signature TTL is one second so a block can be old enough to trash after a short wait
 * (S3 stamps mtimes with the server's clock).
 */
class KeepstoreS3EndToEndIT {
    static final String SIGNING_KEY = "signing-key-for-s3-tests-0123456789";
    static final String ADMIN_TOKEN = "admin-token-for-s3-tests";

    @TempDir
    Path tmp;

    private S3TestServer s3;
    private final List<ServerProcess> servers = new ArrayList<>();

    @BeforeEach
    void connect() {
        s3 = S3TestServer.fromEnvironment();
    }

    @AfterEach
    void stop() {
        servers.forEach(ServerProcess::close);
        if (s3 != null) {
            s3.close();
        }
    }

    private TestHttp start(List<String> volumeFlags, String... extra) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("server" + servers.size()));
        Path key = KeepstoreProcessIT.secretFile(dir, "key", SIGNING_KEY);
        Path token = KeepstoreProcessIT.secretFile(dir, "token", ADMIN_TOKEN);
        int port = ServerProcess.freePort();
        List<String> args = new ArrayList<>(List.of("-listen=127.0.0.1:" + port, "-blob-signing-key-file=" + key,
                "-data-manager-token-file=" + token, "-max-buffers=4"));
        args.addAll(List.of(extra));
        args.addAll(volumeFlags);
        ServerProcess p = ServerProcess.start(dir, List.of(), args);
        servers.add(p);
        return p.awaitHealthy(port);
    }

    private TestHttp startS3(String bucket, String... extra) throws Exception {
        return start(BackendFlags.s3Buckets(s3, tmp, List.of(bucket)), extra);
    }

    private static String admin() {
        return "Bearer " + ADMIN_TOKEN;
    }

    @Test
    void blockLifeCycleOnAnS3OnlyServer() throws Exception {
        String bucket = s3.newBucket();
        TestHttp http = startS3(bucket, "-blob-signature-ttl=1", "-never-delete=false", "-trash-lifetime=1h");
        byte[] data = TestHttp.randomBlock(300_000, 7);
        String hash = TestHttp.md5(data);
        String locator = hash + "+" + data.length;

        TestHttp.Response put = http.put("/" + hash, data);
        assertEquals(200, put.status(), put.text());
        assertEquals("2", put.header("X-Keep-Replicas-Stored"), "S3 volumes count 2 replicas by default");
        assertTrue(s3.exists(bucket, hash), "stored in the reference layout: data object");
        assertTrue(s3.exists(bucket, "recent/" + hash), "stored in the reference layout: mtime marker");

        TestHttp.Response get = http.get("/" + locator);
        assertEquals(200, get.status());
        assertArrayEquals(data, get.body());
        TestHttp.Response head = http.send("HEAD", "/" + locator, null);
        assertEquals(200, head.status());
        assertEquals(String.valueOf(data.length), head.header("Content-Length"));
        assertTrue(index(http).contains(locator + " "), "index lists the block");

        Thread.sleep(1100); // older than the one-second signature TTL, by the S3 server's clock
        assertEquals(200, http.send("DELETE", "/" + locator, null, "Authorization", admin()).status());
        assertEquals(404, http.get("/" + locator).status());
        assertFalse(s3.exists(bucket, hash));
        assertTrue(s3.exists(bucket, "trash/" + hash), "trashed in the reference layout");
        assertFalse(index(http).contains(hash), "trash is not in the index");

        assertEquals(200, http.put("/untrash/" + locator, new byte[0], "Authorization", admin()).status());
        assertArrayEquals(data, http.get("/" + locator).body());
        assertTrue(index(http).contains(locator + " "));
        assertEquals(404, http.put("/untrash/" + locator, new byte[0], "Authorization", admin()).status(),
                "restored: no longer in trash");
        assertEquals(200, http.send("TOUCH", "/" + locator, null, "Authorization", admin()).status());
    }

    /**
     * keep-balance's path: a trash list names the block with the mtime the index reported (whole
     * seconds for S3), the trash worker moves it to trash/, and the periodic empty-trash deletes
     * it and its marker once the trash lifetime has passed.
     */
    @Test
    void trashListAndEmptyTrashRemoveAnOldBlock() throws Exception {
        String bucket = s3.newBucket();
        TestHttp http = startS3(bucket, "-blob-signature-ttl=1", "-never-delete=false", "-trash-lifetime=2s",
                "-trash-check-interval=1s");
        byte[] data = TestHttp.randomBlock(4000, 10);
        String hash = TestHttp.md5(data);
        String locator = hash + "+" + data.length;
        assertEquals(200, http.put("/" + locator, data).status());
        Thread.sleep(1100);
        String line = Arrays.stream(index(http).split("\n")).filter(l -> l.startsWith(locator + " ")).findFirst()
                .orElseThrow();
        long mtime = Long.parseLong(line.substring(line.indexOf(' ') + 1));
        String trash = "[{\"locator\":\"" + locator + "\",\"block_mtime\":" + mtime + ",\"mount_uuid\":\"\"}]";
        assertEquals(200, http.put("/trash", trash.getBytes(), "Authorization", admin()).status());
        awaitTrue(() -> http.get("/" + locator).status() == 404, "the trash worker trashed the block");
        awaitTrue(() -> !s3.exists(bucket, "trash/" + hash) && !s3.exists(bucket, "recent/" + hash),
                "empty-trash deleted the trashed copy and its marker");
        assertFalse(s3.exists(bucket, hash));
    }

    @FunctionalInterface
    interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Condition condition, String what) throws Exception {
        for (int i = 0; i < 600; i++) {
            if (condition.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting until " + what);
    }

    @Test
    void deleteIsRefusedWithoutTrashLifetimeOrUnsafeDelete() throws Exception {
        String bucket = s3.newBucket();
        TestHttp http = startS3(bucket, "-blob-signature-ttl=1", "-never-delete=false");
        byte[] data = TestHttp.randomBlock(1000, 8);
        String locator = TestHttp.md5(data) + "+" + data.length;
        assertEquals(200, http.put("/" + locator, data).status());
        Thread.sleep(1100);
        TestHttp.Response refused = http.send("DELETE", "/" + locator, null, "Authorization", admin());
        assertEquals(500, refused.status(), refused.text());
        assertTrue(refused.text().contains("UnsafeDelete"), refused.text());
        assertEquals(200, http.get("/" + locator).status());
    }

    @Test
    void pullFetchesABlockFromAnotherServerIntoS3() throws Exception {
        Path dirVolume = Files.createDirectories(tmp.resolve("dirvol"));
        TestHttp source = start(List.of("-volume=" + dirVolume));
        String bucket = s3.newBucket();
        TestHttp target = startS3(bucket);
        byte[] data = TestHttp.randomBlock(200_000, 9);
        String locator = TestHttp.md5(data) + "+" + data.length;
        assertEquals(200, source.put("/" + locator, data).status());
        assertEquals(404, target.get("/" + locator).status());

        String pull = "[{\"locator\":\"" + locator + "\",\"servers\":[\"http://127.0.0.1:" + source.uri("/").getPort()
                + "\"],\"mount_uuid\":\"\"}]";
        assertEquals(200, target.put("/pull", pull.getBytes(), "Authorization", admin()).status());
        TestHttp.Response got = null;
        for (int i = 0; i < 300 && (got == null || got.status() != 200); i++) {
            Thread.sleep(100);
            got = target.get("/" + locator);
        }
        assertEquals(200, got.status(), "the pull worker stored the block in the bucket");
        assertArrayEquals(data, got.body());
        assertTrue(s3.exists(bucket, TestHttp.md5(data)));
    }

    /**
     * Single-stream PUT and GET of 64 MiB blocks through the server, S3 volume next to a
     * directory volume, rounds interleaved so both see the same machine load. Opt-in
     * ({@code -Dkeepstore.throughput=true}): it prints figures and asserts nothing about speed.
     */
    @Test
    void throughputOf64MiBBlocksThroughTheServer() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("keepstore.throughput"), "opt-in: -Dkeepstore.throughput=true");
        Path dirVolume = Files.createDirectories(tmp.resolve("throughput-dir"));
        TestHttp directory = start(List.of("-volume=" + dirVolume));
        TestHttp bucket = startS3(s3.newBucket());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int rounds = 6;
        double[][] put = new double[2][rounds];
        double[][] get = new double[2][rounds];
        for (int i = 0; i < rounds; i++) {
            byte[] block = TestHttp.randomBlock(64 << 20, 100 + i);
            String locator = TestHttp.md5(block) + "+" + block.length;
            TestHttp[] servers = {directory, bucket};
            for (int s = 0; s < 2; s++) {
                URI uri = servers[s].uri("/" + locator);
                long t0 = System.nanoTime();
                HttpResponse<String> p = client.send(HttpRequest.newBuilder(uri)
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(block)).build(),
                        HttpResponse.BodyHandlers.ofString());
                long t1 = System.nanoTime();
                assertEquals(200, p.statusCode(), p.body());
                HttpResponse<Void> g = client.send(HttpRequest.newBuilder(uri).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                long t2 = System.nanoTime();
                assertEquals(200, g.statusCode());
                put[s][i] = block.length / 1e6 / ((t1 - t0) / 1e9);
                get[s][i] = block.length / 1e6 / ((t2 - t1) / 1e9);
            }
        }
        String[] labels = {"directory", "S3 (S3Proxy)"};
        for (int s = 0; s < 2; s++) {
            // The first round warms up the JIT and connections: report the median of the rest.
            System.out.println(String.format(Locale.ROOT, "throughput %-13s 64 MiB blocks, single stream: PUT %.0f MB/s,"
                    + " GET %.0f MB/s (median of %d after 1 warm-up; PUT %s, GET %s)", labels[s], median(put[s]),
                    median(get[s]), rounds - 1, rounded(put[s]), rounded(get[s])));
        }
    }

    private static double median(double[] all) {
        double[] rest = Arrays.copyOfRange(all, 1, all.length);
        Arrays.sort(rest);
        return rest.length % 2 == 1 ? rest[rest.length / 2] : (rest[rest.length / 2 - 1] + rest[rest.length / 2]) / 2;
    }

    private static String rounded(double[] values) {
        return Arrays.toString(Arrays.stream(values).mapToLong(Math::round).toArray());
    }

    private static String index(TestHttp http) throws Exception {
        TestHttp.Response r = http.get("/index", "Authorization", admin());
        assertEquals(200, r.status());
        assertTrue(r.text().endsWith("\n\n") || r.text().equals("\n"), "complete index");
        return r.text();
    }
}
