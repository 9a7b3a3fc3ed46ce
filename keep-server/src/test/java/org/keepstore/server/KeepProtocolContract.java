package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.Locator;
import org.keepstore.core.Mount;

/**
 * Every row of SPEC §3's tables, against a running server configured as {@link #flags}: two
 * directory volumes, permissions enforced, a signing key, an admin token, trash enabled.
 * Subclasses start the server in-process or as a separate process.
 */
abstract class KeepProtocolContract {
    static final String SIGNING_KEY = "signing-key-for-tests-0123456789";
    static final String ADMIN_TOKEN = "admin-token-for-tests";
    static final String USER_TOKEN = "user-token-for-tests";
    static final Duration TTL = Duration.ofDays(14);
    static final String EMPTY = Locator.EMPTY_BLOCK_HASH;

    private final ObjectMapper json = new ObjectMapper();

    /** The client for the server under test. */
    abstract TestHttp http();

    /**
     * Replaces every stored copy of {@code hash} with {@code corrupted} (same length, different bytes).
     *
     * @return how many copies were replaced
     */
    abstract int corruptStoredCopies(String hash, byte[] corrupted) throws Exception;

    /**
     * How long to wait for a new mtime to differ from the last. Directory and memory volumes keep
     * nanoseconds; volumes whose service stamps mtimes in whole seconds (S3, Azure) override this.
     */
    Duration mtimeStep() {
        return Duration.ofMillis(20);
    }

    static String bearer(String token) {
        return "Bearer " + token;
    }

    /** Stores data and returns the signed locator from the response. */
    String store(byte[] data) throws Exception {
        TestHttp.Response r = http().put("/" + TestHttp.md5(data), data, "Authorization", bearer(USER_TOKEN));
        assertEquals(200, r.status(), r.text());
        return r.text().trim();
    }

    TestHttp.Response getSigned(String locator) throws Exception {
        return http().get("/" + locator, "Authorization", bearer(USER_TOKEN));
    }

    // ------------------------------------------------------------ PUT

    @Test
    void putAnswersSignedLocatorAndReplicationHeaders() throws Exception {
        byte[] data = "put-signed".getBytes(StandardCharsets.UTF_8);
        String hash = TestHttp.md5(data);
        TestHttp.Response r = http().put("/" + hash, data, "Authorization", bearer(USER_TOKEN));
        assertEquals(200, r.status(), r.text());
        assertTrue(r.text().endsWith("\n"));
        Locator locator = Locator.parse(r.text().trim());
        assertEquals(hash, locator.hash());
        assertEquals(data.length, locator.size());
        String hint = locator.signatureHint();
        assertNotNull(hint, "a token and a key configured: the locator is signed");
        assertTrue(hint.matches("A[0-9a-f]{40}@[0-9a-f]{8}"), hint);
        assertEquals("1", r.header("X-Keep-Replicas-Stored"));
        assertEquals("default=1", r.header("X-Keep-Storage-Classes-Confirmed"));
        assertCors(r);
    }

    @Test
    void putWithoutTokenAnswersUnsignedLocator() throws Exception {
        byte[] data = "put-unsigned".getBytes(StandardCharsets.UTF_8);
        TestHttp.Response r = http().put("/" + TestHttp.md5(data), data);
        assertEquals(200, r.status(), r.text());
        assertEquals(TestHttp.md5(data) + "+" + data.length + "\n", r.text());
    }

    @Test
    void putToAFullLocatorChecksOnlyTheHash() throws Exception {
        byte[] data = "put-locator".getBytes(StandardCharsets.UTF_8);
        TestHttp.Response r = http().put("/" + TestHttp.md5(data) + "+999+Kzzzzz+Afoo@12345678", data);
        assertEquals(200, r.status(), r.text());
        assertEquals(TestHttp.md5(data) + "+" + data.length + "\n", r.text());
    }

    @Test
    void putWithWrongHashIs400() throws Exception {
        TestHttp.Response r = http().put("/" + TestHttp.md5("other".getBytes()), "data".getBytes());
        assertEquals(400, r.status());
        assertCors(r);
    }

    @Test
    void putWithMalformedLocatorIs400() throws Exception {
        for (String path : List.of("/abc", "/" + EMPTY.toUpperCase(), "/" + EMPTY + "+", "/" + EMPTY + "++0",
                "/" + EMPTY + "+Afoo+0")) {
            assertEquals(400, http().put(path, new byte[0]).status(), path);
        }
    }

    @Test
    void putDoubleSlashIsNotRewritten() throws Exception {
        byte[] data = "x".getBytes();
        assertEquals(400, http().put("//" + TestHttp.md5(data), data).status());
        assertEquals(400, http().put("//x", data).status());
    }

    @Test
    void putHonoursStorageClassesAndAcceptsDesiredReplicas() throws Exception {
        byte[] data = "classes".getBytes();
        TestHttp.Response r = http().put("/" + TestHttp.md5(data), data, "X-Keep-Storage-Classes", " default ",
                "X-Keep-Desired-Replicas", "2", "X-Request-Id", "req-classes");
        assertEquals(200, r.status(), r.text());
        assertEquals("default=1", r.header("X-Keep-Storage-Classes-Confirmed"));
        assertEquals("req-classes", r.header("X-Request-Id"));
    }

    @Test
    void putOfUnofferedStorageClassIs507() throws Exception {
        byte[] data = "class".getBytes();
        TestHttp.Response r = http().put("/" + TestHttp.md5(data), data, "X-Keep-Storage-Classes", "nonexistent");
        assertEquals(507, r.status(), r.text());
    }

    @Test
    void putAcceptsChunkedBodyAndAnswers100ContinueAtOnce() throws Exception {
        byte[] data = TestHttp.randomBlock(100_000, 1);
        String hash = TestHttp.md5(data);
        try (Socket s = http().socket()) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            TestHttp.write(out, "PUT /" + hash + " HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            // The server must invite the body before it has seen any of it.
            TestHttp.Response interim = TestHttp.readHead(in);
            assertEquals(100, interim.status());
            for (int off = 0; off < data.length; off += 30_000) {
                int n = Math.min(30_000, data.length - off);
                TestHttp.write(out, Integer.toHexString(n) + "\r\n");
                out.write(data, off, n);
                TestHttp.write(out, "\r\n");
            }
            TestHttp.write(out, "0\r\n\r\n");
            TestHttp.Response r = TestHttp.readResponse(in);
            assertEquals(200, r.status(), r.text());
            assertEquals(hash + "+" + data.length, r.text().trim());
            // The connection stays usable (keep-alive).
            TestHttp.write(out, "GET /_health/ping HTTP/1.1\r\nHost: test\r\n\r\n");
            assertEquals(200, TestHttp.readResponse(in).status());
        }
    }

    @Test
    void aMalformedChunkedBodyStoresNothingAndIsNotCountedAsA200() throws Exception {
        byte[] data = "malformed chunks".getBytes(StandardCharsets.UTF_8);
        String hash = TestHttp.md5(data);
        try (Socket s = http().socket()) {
            TestHttp.write(s.getOutputStream(), "PUT /" + hash + " HTTP/1.1\r\nHost: test\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + new String(data, StandardCharsets.UTF_8)
                    + "\r\n0\r\n\r\n");
            // Undertow drops the connection on a chunk header that is not hex: there is no answer.
            assertEquals(-1, s.getInputStream().read());
        }
        BlobSigner signer = new BlobSigner(SIGNING_KEY.getBytes(), TTL, Clock.systemUTC());
        String locator = signer.sign(Locator.of(hash, data.length), USER_TOKEN).toString();
        assertEquals(404, getSigned(locator).status(), "nothing was stored");
        // The request is on record as unanswered (499), not as the 200 its status field held.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!http().get("/metrics").text().contains("request_duration_seconds_count{code=\"499\",method=\"put\"}")) {
            assertTrue(System.nanoTime() < deadline, "no 499 PUT in /metrics");
            Thread.sleep(10);
        }
    }

    @Test
    void rejectingAPutThatAwaits100ContinueClosesTheConnection() throws Exception {
        try (Socket s = http().socket()) {
            TestHttp.write(s.getOutputStream(), "PUT /not-a-locator HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            TestHttp.Response r = TestHttp.readResponse(s.getInputStream());
            assertEquals(400, r.status());
            // The body was never invited, so the connection cannot be reused: the server says so.
            assertEquals("close", r.header("Connection"));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void putOver64MiBIs413BeforeTheBodyIsSent() throws Exception {
        try (Socket s = http().socket()) {
            TestHttp.write(s.getOutputStream(), "PUT /" + EMPTY + " HTTP/1.1\r\nHost: test\r\nContent-Length: "
                    + (Locator.MAX_BLOCK_SIZE + 1) + "\r\nExpect: 100-continue\r\n\r\n");
            TestHttp.Response r = TestHttp.readResponse(s.getInputStream());
            assertEquals(413, r.status());
        }
    }

    @Test
    void putWithBodyShorterThanContentLengthIs400OrClosed() throws Exception {
        try (Socket s = http().socket()) {
            byte[] data = "short".getBytes();
            TestHttp.write(s.getOutputStream(), "PUT /" + TestHttp.md5(data) + " HTTP/1.1\r\nHost: test\r\n"
                    + "Content-Length: 10\r\n\r\n");
            s.getOutputStream().write(data);
            s.shutdownOutput();
            try {
                TestHttp.Response r = TestHttp.readResponse(s.getInputStream());
                assertEquals(400, r.status());
            } catch (IOException e) {
                // Also acceptable: the server dropped the connection without storing anything.
            }
        }
        BlobSigner signer = new BlobSigner(SIGNING_KEY.getBytes(), TTL, Clock.systemUTC());
        String locator = signer.sign(Locator.of(TestHttp.md5("short".getBytes()), 5), USER_TOKEN).toString();
        assertEquals(404, getSigned(locator).status(), "nothing was stored");
    }

    // ------------------------------------------------------------ GET / HEAD

    @Test
    void getAndHeadServeSignedBlocks() throws Exception {
        byte[] data = TestHttp.randomBlock(300_000, 2);
        String locator = store(data);
        TestHttp.Response r = getSigned(locator);
        assertEquals(200, r.status());
        assertArrayEquals(data, r.body());
        assertEquals(Integer.toString(data.length), r.header("Content-Length"));
        assertTrue(r.header("Vary").contains("X-Keep-Signature"));
        assertCors(r);

        TestHttp.Response head = http().send("HEAD", "/" + locator, null, "Authorization", bearer(USER_TOKEN));
        assertEquals(200, head.status());
        assertEquals(Integer.toString(data.length), head.header("Content-Length"));
        assertEquals(0, head.body().length);

        TestHttp.Response viaQuery = http().get("/" + locator + "?api_token=" + USER_TOKEN);
        assertEquals(200, viaQuery.status());
        TestHttp.Response oauth = http().get("/" + locator, "Authorization", "OAuth2 " + USER_TOKEN);
        assertEquals(200, oauth.status());
    }

    @Test
    void getDoubleSlashWorksLikeSingleSlash() throws Exception {
        byte[] data = "double-slash".getBytes();
        String locator = store(data);
        TestHttp.Response r = http().get("//" + locator, "Authorization", bearer(USER_TOKEN));
        assertEquals(200, r.status());
        assertArrayEquals(data, r.body());
    }

    @Test
    void signatureRules() throws Exception {
        byte[] data = "signatures".getBytes();
        String locator = store(data);
        String plain = Locator.parse(locator).withoutSignature().toString();
        // No token at all: 401.
        TestHttp.Response noToken = http().get("/" + locator);
        assertEquals(401, noToken.status());
        assertCors(noToken);
        // A token the signature was not made for: 400 invalid signature.
        assertEquals(400, http().get("/" + locator, "Authorization", bearer("other-token")).status());
        // No signature at all: 400.
        assertEquals(400, getSigned(plain).status());
        // Malformed signature: 400.
        assertEquals(400, getSigned(plain + "+Agarbage").status());
        // Expired (with a bad MAC too): 401, the expiry is checked first.
        BlobSigner signer = new BlobSigner(SIGNING_KEY.getBytes(), TTL, Clock.systemUTC());
        long past = System.currentTimeMillis() / 1000 - 3600;
        String expired = plain + "+" + signer.signatureHint(Locator.parse(plain).hash(), USER_TOKEN, past);
        assertEquals(401, getSigned(expired).status());
        assertEquals(401, getSigned(plain + "+A" + "0".repeat(40) + "@" + Long.toHexString(past)).status());
        assertEquals(401, http().send("HEAD", "/" + expired, null, "Authorization", bearer(USER_TOKEN)).status());
    }

    @Test
    void getWithoutSizeHintIs405ExceptForTheEmptyBlock() throws Exception {
        byte[] data = "nosize".getBytes();
        String locator = store(data);
        Locator parsed = Locator.parse(locator);
        String hashOnly = parsed.hash() + "+" + parsed.signatureHint();
        assertEquals(405, getSigned(hashOnly).status());
        // "+0" on a block that is not empty is no size either (as the reference takes it).
        assertEquals(405, getSigned(parsed.hash() + "+0+" + parsed.signatureHint()).status());

        String empty = store(new byte[0]);
        Locator emptyParsed = Locator.parse(empty);
        TestHttp.Response r = getSigned(emptyParsed.hash() + "+" + emptyParsed.signatureHint());
        assertEquals(200, r.status());
        assertEquals(0, r.body().length);
        assertEquals(200, getSigned(emptyParsed.hash() + "+0+" + emptyParsed.signatureHint()).status());
    }

    @Test
    void getOfMissingBlockIs404() throws Exception {
        String hash = TestHttp.md5("never stored".getBytes());
        BlobSigner signer = new BlobSigner(SIGNING_KEY.getBytes(), TTL, Clock.systemUTC());
        String locator = signer.sign(Locator.of(hash, 12), USER_TOKEN).toString();
        TestHttp.Response r = getSigned(locator);
        assertEquals(404, r.status());
        assertCors(r);
        assertEquals(404, http().send("HEAD", "/" + locator, null, "Authorization", bearer(USER_TOKEN)).status());
    }

    @Test
    void remoteLocatorIs400() throws Exception {
        String locator = store("remote".getBytes());
        TestHttp.Response r = getSigned(locator + "+Rzzzzz-abcdef");
        assertEquals(400, r.status());
        assertTrue(r.text().contains("remote cluster not configured"), r.text());
    }

    @Test
    void corruptCopyIsNeverServedAsGood() throws Exception {
        byte[] data = TestHttp.randomBlock(1000, 3);
        String locator = store(data);
        String hash = Locator.parse(locator).hash();
        byte[] bad = data.clone();
        bad[10] ^= 1;
        assertTrue(corruptStoredCopies(hash, bad) > 0, "the block is stored on a volume");
        assertEquals(502, http().send("HEAD", "/" + locator, null, "Authorization", bearer(USER_TOKEN)).status());
        TestHttp.Response r = getSigned(locator);
        assertEquals(502, r.status(), "detected before any byte was sent");
    }

    // ------------------------------------------------------------ anyone

    @Test
    void healthMetricsStatusAndOptions() throws Exception {
        TestHttp.Response health = http().get("/_health/ping");
        assertEquals(200, health.status());
        assertEquals("OK", json.readTree(health.body()).get("health").asText());
        assertCors(health);

        store("metrics".getBytes());
        TestHttp.Response metrics = http().get("/metrics");
        assertEquals(200, metrics.status());
        String text = metrics.text();
        for (String name : List.of("arvados_keepstore_bufferpool_allocated_bytes",
                "arvados_keepstore_bufferpool_max_buffers", "arvados_keepstore_bufferpool_inuse_buffers",
                "arvados_keepstore_pull_queue_pending_entries", "arvados_keepstore_pull_queue_inprogress_entries",
                "arvados_keepstore_trash_queue_pending_entries", "arvados_keepstore_trash_queue_inprogress_entries",
                "arvados_concurrent_requests", "arvados_max_concurrent_requests",
                "request_duration_seconds_bucket{code=\"200\",method=\"put\"", "jvm_memory_bytes_used")) {
            assertTrue(text.contains(name), name);
        }

        TestHttp.Response status = http().get("/status.json");
        assertEquals(200, status.status());
        JsonNode root = json.readTree(status.body());
        assertEquals(2, root.get("volumes").size());
        assertTrue(root.get("volumes").get(0).has("mount_point"));
        assertTrue(root.get("volumes").get(0).has("bytes_free"));
        assertTrue(root.get("BufferPool").has("BuffersMax"));
        assertTrue(root.get("BufferPool").has("BuffersInUse"));
        assertTrue(root.get("BufferPool").has("BytesAllocated"));
        assertTrue(root.get("PullQueue").has("InProgress"));
        assertTrue(root.get("TrashQueue").has("Queued"));
        assertTrue(root.get("Memory").has("HeapUsed"));

        TestHttp.Response options = http().send("OPTIONS", "/anything/at/all", null);
        assertEquals(200, options.status());
        assertEquals(0, options.body().length);
        assertCors(options);
    }

    @Test
    void requestIdIsEchoedOrGenerated() throws Exception {
        assertEquals("req-test-123", http().get("/status.json", "X-Request-Id", "req-test-123").header("X-Request-Id"));
        assertNotNull(http().get("/status.json").header("X-Request-Id"));
    }

    @Test
    void unknownPathsAndMethodsAre400() throws Exception {
        for (String path : List.of("/nonsense/path", "/index/xyz/more", "/mounts/x", "/status.json/x")) {
            TestHttp.Response r = http().get(path, "Authorization", bearer(ADMIN_TOKEN));
            assertEquals(400, r.status(), path);
            assertCors(r);
        }
        assertEquals(400, http().send("POST", "/" + EMPTY + "+0", new byte[0]).status());
        assertEquals(400, http().send("PATCH", "/status.json", new byte[0]).status());
    }

    // ------------------------------------------------------------ admin

    @Test
    void adminEndpointsNeedTheAdminToken() throws Exception {
        String someLocator = EMPTY + "+0";
        List<String[]> requests = List.of(
                new String[]{"GET", "/index"}, new String[]{"GET", "/index/abc"}, new String[]{"GET", "/mounts"},
                new String[]{"PUT", "/pull"}, new String[]{"PUT", "/trash"},
                new String[]{"PUT", "/untrash/" + someLocator}, new String[]{"DELETE", "/" + someLocator},
                new String[]{"TOUCH", "/" + someLocator});
        for (String[] req : requests) {
            byte[] body = req[0].equals("PUT") ? "[]".getBytes() : null;
            assertEquals(401, http().send(req[0], req[1], body).status(), String.join(" ", req));
            assertEquals(403, http().send(req[0], req[1], body, "Authorization", bearer(USER_TOKEN)).status(),
                    String.join(" ", req));
        }
    }

    @Test
    void indexListsBlocksAndEndsWithEmptyLine() throws Exception {
        byte[] data = "index-me".getBytes();
        String hash = TestHttp.md5(data);
        store(data);
        TestHttp.Response all = http().get("/index", "Authorization", bearer(ADMIN_TOKEN));
        assertEquals(200, all.status());
        String text = all.text();
        assertTrue(text.endsWith("\n\n"), "completeness marker");
        assertTrue(text.matches("(?s)(.*\n)?" + hash + "\\+" + data.length + " \\d+\n.*"), text);
        for (String line : text.split("\n")) {
            if (!line.isEmpty()) {
                assertTrue(line.matches("[0-9a-f]{32}\\+\\d+ \\d+"), line);
            }
        }
        String prefix = hash.substring(0, 4);
        for (String path : List.of("/index/" + prefix, "/index?prefix=" + prefix)) {
            String part = http().get(path, "Authorization", bearer(ADMIN_TOKEN)).text();
            assertTrue(part.contains(hash + "+"), path);
            assertTrue(part.endsWith("\n"));
            for (String line : part.split("\n")) {
                assertTrue(line.isEmpty() || line.startsWith(prefix), line);
            }
        }
    }

    @Test
    void mountsAndPerMountIndex() throws Exception {
        byte[] data = "per-mount".getBytes();
        String hash = TestHttp.md5(data);
        store(data);
        TestHttp.Response r = http().get("/mounts", "Authorization", bearer(ADMIN_TOKEN));
        assertEquals(200, r.status());
        JsonNode mounts = json.readTree(r.body());
        assertEquals(2, mounts.size());
        boolean found = false;
        for (JsonNode m : mounts) {
            String uuid = m.get("uuid").asText();
            assertTrue(uuid.matches("zzzzz-nyw5e-[a-z0-9]{15}"), uuid);
            assertTrue(m.has("device_id"));
            assertTrue(m.get("allow_write").asBoolean());
            assertTrue(m.has("allow_trash"));
            assertEquals(1, m.get("replication").asInt());
            assertTrue(m.get("storage_classes").get("default").asBoolean());
            TestHttp.Response blocks = http().get("/mounts/" + uuid + "/blocks", "Authorization", bearer(ADMIN_TOKEN));
            assertEquals(200, blocks.status());
            assertTrue(blocks.text().endsWith("\n"));
            found |= blocks.text().contains(hash + "+" + data.length + " ");
            TestHttp.Response prefixed = http().get("/mounts/" + uuid + "/blocks/" + hash.substring(0, 2),
                    "Authorization", bearer(ADMIN_TOKEN));
            assertEquals(200, prefixed.status());
        }
        assertTrue(found, "one mount lists the block");
        String unknown = Mount.uuidFor("no such volume");
        assertEquals(404, http().get("/mounts/" + unknown + "/blocks", "Authorization", bearer(ADMIN_TOKEN)).status());
    }

    @Test
    void pullListValidation() throws Exception {
        String ok = "[{\"locator\":\"" + EMPTY + "+0\",\"servers\":[\"http://127.0.0.1:1\"],\"mount_uuid\":\"\"}]";
        assertEquals(200, http().put("/pull", ok.getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
        String noSize = "[{\"locator\":\"" + EMPTY + "\",\"servers\":[\"http://127.0.0.1:1\"]}]";
        assertEquals(400, http().put("/pull", noSize.getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(400, http().put("/pull", "{not json".getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(400, http().put("/pull", "{}".getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(200, http().put("/pull", "[]".getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
    }

    @Test
    void trashListValidation() throws Exception {
        String ok = "[{\"locator\":\"" + EMPTY + "+0\",\"block_mtime\":1234567890123456789,\"mount_uuid\":\"\"}]";
        assertEquals(200, http().put("/trash", ok.getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(400, http().put("/trash", "[{\"locator\":\"nope\",\"block_mtime\":1}]".getBytes(),
                "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(400, http().put("/trash", "not json".getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(200, http().put("/trash", "[]".getBytes(), "Authorization", bearer(ADMIN_TOKEN)).status());
    }

    @Test
    void untrashOfBlockNotInTrashIs404() throws Exception {
        String hash = TestHttp.md5("not in trash".getBytes());
        assertEquals(404, http().put("/untrash/" + hash + "+12", new byte[0], "Authorization", bearer(ADMIN_TOKEN))
                .status());
        assertEquals(400, http().put("/untrash/bogus", new byte[0], "Authorization", bearer(ADMIN_TOKEN)).status());
    }

    @Test
    void deleteAndTouch() throws Exception {
        String missing = TestHttp.md5("missing block".getBytes()) + "+13";
        assertEquals(404, http().send("DELETE", "/" + missing, null, "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(404, http().send("TOUCH", "/" + missing, null, "Authorization", bearer(ADMIN_TOKEN)).status());

        byte[] data = "young block".getBytes();
        String locator = store(data);
        String plain = Locator.parse(locator).withoutSignature().toString();
        long before = indexMtime(Locator.parse(plain).hash());
        Thread.sleep(mtimeStep().toMillis());
        assertEquals(200, http().send("TOUCH", "/" + plain, null, "Authorization", bearer(ADMIN_TOKEN)).status());
        assertTrue(indexMtime(Locator.parse(plain).hash()) > before, "TOUCH moves the mtime forward");
        // Younger than the signature TTL: DELETE succeeds but leaves the block in place.
        assertEquals(200, http().send("DELETE", "/" + plain, null, "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(200, getSigned(locator).status());
    }

    /** The block's mtime as /index reports it. */
    long indexMtime(String hash) throws Exception {
        String index = http().get("/index/" + hash, "Authorization", bearer(ADMIN_TOKEN)).text();
        for (String line : index.split("\n")) {
            if (line.startsWith(hash + "+")) {
                return Long.parseLong(line.substring(line.indexOf(' ') + 1));
            }
        }
        throw new AssertionError("not in index: " + hash);
    }

    // ------------------------------------------------------------ conformance details

    @Test
    void headWorksWhereverGetDoesWithContentLengthAndNoBody() throws Exception {
        for (String path : List.of("/status.json", "/_health/ping", "/metrics")) {
            TestHttp.Response get = http().get(path);
            TestHttp.Response head = http().send("HEAD", path, null);
            assertEquals(200, head.status(), path);
            assertEquals(0, head.body().length, path);
            assertNotNull(head.header("Content-Length"), path);
            assertCors(head);
            assertEquals(get.header("Content-Type"), head.header("Content-Type"), path);
        }
        String someMount = json.readTree(http().get("/mounts", "Authorization", bearer(ADMIN_TOKEN)).body())
                .get(0).get("uuid").asText();
        for (String path : List.of("/index", "/index/abc", "/mounts", "/mounts/" + someMount + "/blocks")) {
            assertEquals(401, http().send("HEAD", path, null).status(), path);
            TestHttp.Response head = http().send("HEAD", path, null, "Authorization", bearer(ADMIN_TOKEN));
            assertEquals(200, head.status(), path);
            assertEquals(0, head.body().length, path);
        }
    }

    @Test
    void headWithoutSizeHintIsAllowed() throws Exception {
        // SPEC §3 answers 405 only to a GET without a size hint (the reference server lets HEAD through).
        byte[] data = "head without size".getBytes();
        Locator signed = Locator.parse(store(data));
        TestHttp.Response head = http().send("HEAD", "/" + signed.hash() + "+" + signed.signatureHint(), null,
                "Authorization", bearer(USER_TOKEN));
        assertEquals(200, head.status());
        assertEquals(Integer.toString(data.length), head.header("Content-Length"));
        assertEquals(405, getSigned(signed.hash() + "+" + signed.signatureHint()).status());
    }

    @Test
    void getOfMalformedLocatorStillVariesOnSignature() throws Exception {
        for (String method : List.of("GET", "HEAD")) {
            TestHttp.Response r = http().send(method, "/" + EMPTY + "++0", null, "Authorization", bearer(USER_TOKEN));
            assertEquals(400, r.status(), method);
            assertEquals("X-Keep-Signature", r.header("Vary"), method);
        }
    }

    @Test
    void indexPrefixFromTheQueryWinsOverThePath() throws Exception {
        byte[] data = "query prefix wins".getBytes();
        String hash = TestHttp.md5(data);
        store(data);
        String otherPrefix = hash.charAt(0) == '0' ? "1" : "0";
        String text = http().get("/index/" + otherPrefix + "?prefix=" + hash.substring(0, 3),
                "Authorization", bearer(ADMIN_TOKEN)).text();
        assertTrue(text.contains(hash + "+"), text);
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void adminTokenMayComeFromTheQueryBesideAnotherHeaderToken() throws Exception {
        // Like the reference server, every token the request carries is tried against the admin token.
        assertEquals(200, http().get("/mounts?api_token=" + ADMIN_TOKEN, "Authorization", bearer(USER_TOKEN)).status());
        assertEquals(403, http().get("/mounts?api_token=" + USER_TOKEN, "Authorization", bearer("other")).status());
    }

    @Test
    void pullAndTrashListsAnswer100ContinueAtOnce() throws Exception {
        // libcurl-based clients send Expect: 100-continue with these bodies too, and wait for the
        // invitation before sending them.
        String trash = "[{\"locator\":\"" + EMPTY + "+0\",\"block_mtime\":1,\"mount_uuid\":\"\"}]";
        String pull = "[{\"locator\":\"" + EMPTY + "+0\",\"servers\":[\"http://127.0.0.1:1\"]}]";
        for (String[] list : List.of(new String[]{"/trash", trash}, new String[]{"/pull", pull})) {
            byte[] body = list[1].getBytes(StandardCharsets.UTF_8);
            try (Socket s = http().socket()) {
                // Far longer than any answer takes; the server never sends the interim response otherwise.
                s.setSoTimeout(30_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                TestHttp.write(out, "PUT " + list[0] + " HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + ADMIN_TOKEN
                        + "\r\nContent-Length: " + body.length + "\r\nExpect: 100-continue\r\n\r\n");
                assertEquals(100, TestHttp.readHead(in).status(), list[0]);
                out.write(body);
                out.flush();
                assertEquals(200, TestHttp.readResponse(in).status(), list[0]);
            }
        }
    }

    @Test
    void nullPullAndTrashListsEmptyTheQueues() throws Exception {
        // keep-balance encodes an empty Go slice as JSON null when a server has nothing to do, and
        // sends it to clear that server's queue.
        for (String list : List.of("/pull", "/trash")) {
            TestHttp.Response r = http().put(list, "null\n".getBytes(), "Authorization", bearer(ADMIN_TOKEN));
            assertEquals(200, r.status(), list + ": " + r.text());
            assertEquals(400, http().put(list, new byte[0], "Authorization", bearer(ADMIN_TOKEN)).status(),
                    list + " with no body at all is not JSON");
        }
    }

    static void assertCors(TestHttp.Response r) {
        assertEquals("*", r.header("Access-Control-Allow-Origin"));
        assertEquals("GET, HEAD, PUT, OPTIONS", r.header("Access-Control-Allow-Methods"));
        assertNotNull(r.header("Access-Control-Allow-Headers"));
        assertTrue(r.header("Access-Control-Expose-Headers").contains("X-Keep-Replicas-Stored"));
        assertEquals("86486400", r.header("Access-Control-Max-Age"));
        assertFalse(r.headers().isEmpty());
        assertNotEquals(null, r.header("X-Request-Id"));
    }
}
