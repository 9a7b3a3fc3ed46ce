package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.MemoryVolume;
import org.keepstore.core.Mount;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.server.http.KeepHttpServer;

/**
 * The protocol contract against a server in this JVM (fast), plus cases that need control only
 * an in-process server gives: the engine's clock, other settings, held requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InProcessServerTest extends KeepProtocolContract {

    /** A clock the trash tests move forward, so blocks look older than the signature TTL. */
    static final class MovableClock extends Clock {
        private volatile Duration offset = Duration.ZERO;

        void advance(Duration d) {
            offset = offset.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset);
        }
    }

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final MovableClock engineClock = new MovableClock();
    private final List<MemoryVolume> volumes = new ArrayList<>();
    private TestHttp http;

    @Override
    TestHttp http() {
        return http;
    }

    @Override
    int corruptStoredCopies(String hash, byte[] corrupted) {
        int n = 0;
        for (MemoryVolume volume : volumes) {
            if (volume.contains(hash)) {
                volume.putRaw(hash, corrupted);
                n++;
            }
        }
        return n;
    }

    /** A server over fresh memory volumes; returns its client. */
    TestHttp startServer(String name, Clock clock, boolean trashEnabled, String adminToken, int maxBuffers,
                         int maxRequests, int volumeCount) throws Exception {
        List<Mount> mounts = new ArrayList<>();
        VolumeContext context = new VolumeContext(Clock.systemUTC(), Duration.ofDays(1), TTL, VolumeMetrics.NONE);
        for (int i = 0; i < volumeCount; i++) {
            MemoryVolume volume = new MemoryVolume(name + "-" + i, context);
            if (name.equals("main")) {
                volumes.add(volume);
            }
            mounts.add(Mount.of(Mount.uuidFor(name + "-" + i), volume));
        }
        KeepStore store = new KeepStore(mounts, new BufferPool(maxBuffers),
                new KeepStore.Options(clock, TTL, trashEnabled));
        KeepHttpServer server = KeepHttpServer.builder(store)
                .signer(new BlobSigner(SIGNING_KEY.getBytes(), TTL, Clock.systemUTC()))
                .enforcePermissions(true)
                .adminToken(adminToken)
                .pullQueue(new ListOnlyWorkQueue<>())
                .trashQueue(new ListOnlyWorkQueue<>())
                .maxRequests(maxRequests)
                .build();
        server.start("127.0.0.1", 0);
        cleanup.add(store);
        cleanup.add(server);
        return new TestHttp("127.0.0.1", server.port());
    }

    @BeforeAll
    void start() throws Exception {
        http = startServer("main", engineClock, true, ADMIN_TOKEN, 8, 0, 2);
    }

    @AfterAll
    void stop() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @Test
    void trashThenUntrashOnceTheBlockIsOlderThanTheTtl() throws Exception {
        byte[] data = "old enough to trash".getBytes();
        String locator = store(data);
        String plain = Locator.parse(locator).withoutSignature().toString();
        engineClock.advance(TTL.plusDays(1));
        try {
            assertEquals(200, http.send("DELETE", "/" + plain, null, "Authorization", bearer(ADMIN_TOKEN)).status());
            assertEquals(404, getSigned(locator).status());
            String index = http.get("/index", "Authorization", bearer(ADMIN_TOKEN)).text();
            assertTrue(!index.contains(plain), "trashed blocks are not listed");
            assertEquals(200, http.put("/untrash/" + plain, new byte[0], "Authorization", bearer(ADMIN_TOKEN))
                    .status());
            assertEquals(200, getSigned(locator).status());
        } finally {
            engineClock.advance(TTL.plusDays(1).negated());
        }
    }

    @Test
    void neverDeleteMakesDelete405() throws Exception {
        TestHttp other = startServer("never-delete", Clock.systemUTC(), false, ADMIN_TOKEN, 2, 0, 1);
        byte[] data = "keep me".getBytes();
        other.put("/" + TestHttp.md5(data), data);
        assertEquals(405, other.send("DELETE", "/" + TestHttp.md5(data) + "+" + data.length, null,
                "Authorization", bearer(ADMIN_TOKEN)).status());
    }

    @Test
    void withoutAdminTokenAdminEndpointsRefuseEveryone() throws Exception {
        TestHttp other = startServer("no-admin", Clock.systemUTC(), true, null, 2, 0, 1);
        assertEquals(401, other.get("/index").status());
        assertEquals(403, other.get("/index", "Authorization", bearer(ADMIN_TOKEN)).status());
        assertEquals(403, other.get("/mounts", "Authorization", bearer("anything")).status());
    }

    @Test
    void excessRequestsGet503WhileHealthAndMetricsStillAnswer() throws Exception {
        TestHttp other = startServer("limits", Clock.systemUTC(), true, ADMIN_TOKEN, 1, 2, 1);
        byte[] data = TestHttp.randomBlock(1000, 4);
        String hash = TestHttp.md5(data);
        List<Socket> held = new ArrayList<>();
        try {
            // Two PUTs that send half their body and stop hold both request slots.
            for (int i = 0; i < 2; i++) {
                Socket s = other.socket();
                held.add(s);
                TestHttp.write(s.getOutputStream(), "PUT /" + hash + " HTTP/1.1\r\nHost: t\r\nContent-Length: "
                        + data.length + "\r\n\r\n");
                s.getOutputStream().write(data, 0, 500);
                s.getOutputStream().flush();
            }
            // Wait on /metrics, which takes no request slot: polling a counted endpoint would
            // race the second PUT for the last slot and could take it first.
            awaitRequestsInFlightUncounted(other, 2);
            TestHttp.Response busy = other.get("/status.json");
            assertEquals(503, busy.status());
            KeepProtocolContract.assertCors(busy);
            assertEquals(200, other.get("/_health/ping").status());
            assertEquals(200, other.get("/metrics").status());
            // Finishing the held bodies frees the slots.
            for (Socket s : held) {
                s.getOutputStream().write(data, 500, 500);
                s.getOutputStream().flush();
            }
            for (Socket s : held) {
                assertEquals(200, TestHttp.readResponse(s.getInputStream()).status());
            }
            assertEquals(200, other.get("/status.json").status());
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void aGetWaitingForABufferGivesUpWhenItsClientLeaves() throws Exception {
        TestHttp other = startServer("waiting", Clock.systemUTC(), true, ADMIN_TOKEN, 1, 8, 1);
        // Larger than the engine's small-block limit: blocks up to 64 KiB are read without a pool
        // buffer, so only a larger one waits for the buffer the PUT below holds.
        byte[] stored = TestHttp.randomBlock(70_000, 6);
        TestHttp.Response put = other.put("/" + TestHttp.md5(stored), stored, "Authorization", bearer(USER_TOKEN));
        assertEquals(200, put.status());
        String signed = put.text().trim();
        byte[] data = TestHttp.randomBlock(70_000, 7); // a PUT this large holds a pool buffer
        try (Socket holder = other.socket()) {
            // This PUT takes the only buffer and keeps it while its body is incomplete.
            TestHttp.write(holder.getOutputStream(), "PUT /" + TestHttp.md5(data) + " HTTP/1.1\r\nHost: t\r\n"
                    + "Content-Length: " + data.length + "\r\n\r\n");
            holder.getOutputStream().write(data, 0, 10);
            holder.getOutputStream().flush();
            awaitRequestsInFlight(other, 2);
            // Counted in flight is not yet holding the buffer: a GET sent before that would take it.
            awaitBuffersInUse(other, 1);
            try (Socket waiter = other.socket()) {
                TestHttp.write(waiter.getOutputStream(), "GET /" + signed + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + USER_TOKEN + "\r\n\r\n");
                awaitRequestsInFlight(other, 3);
            }
            // The GET's client left: its request ends although the buffer is still taken.
            awaitRequestsInFlight(other, 2);
            holder.getOutputStream().write(data, 10, data.length - 10);
            holder.getOutputStream().flush();
            assertEquals(200, TestHttp.readResponse(holder.getInputStream()).status());
        }
    }

    @Test
    void aPipelinedRequestBehindAWaitingGetIsServedIntact() throws Exception {
        TestHttp other = startServer("pipelined", Clock.systemUTC(), true, ADMIN_TOKEN, 1, 8, 1);
        byte[] stored = TestHttp.randomBlock(70_000, 8); // large enough to wait for a pool buffer
        TestHttp.Response put = other.put("/" + TestHttp.md5(stored), stored, "Authorization", bearer(USER_TOKEN));
        String signed = put.text().trim();
        byte[] data = TestHttp.randomBlock(70_000, 9); // a PUT this large holds a pool buffer
        try (Socket holder = other.socket(); Socket client = other.socket()) {
            TestHttp.write(holder.getOutputStream(), "PUT /" + TestHttp.md5(data) + " HTTP/1.1\r\nHost: t\r\n"
                    + "Content-Length: " + data.length + "\r\n\r\n");
            holder.getOutputStream().write(data, 0, 10);
            holder.getOutputStream().flush();
            awaitRequestsInFlight(other, 2);
            awaitBuffersInUse(other, 1);
            String get = "GET /" + signed + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + USER_TOKEN + "\r\n\r\n";
            TestHttp.write(client.getOutputStream(), get);
            awaitRequestsInFlight(other, 3);
            // Let the disconnect watcher probe the waiting GET, then pipeline a second request:
            // the byte the watcher reads must reach Undertow in order.
            Thread.sleep(600);
            TestHttp.write(client.getOutputStream(), get);
            Thread.sleep(600);
            holder.getOutputStream().write(data, 10, data.length - 10);
            holder.getOutputStream().flush();
            assertEquals(200, TestHttp.readResponse(holder.getInputStream()).status());
            for (int i = 0; i < 2; i++) {
                TestHttp.Response r = TestHttp.readResponse(client.getInputStream());
                assertEquals(200, r.status());
                assertArrayEquals(stored, r.body());
            }
        }
    }

    /** Polls /status.json (which counts itself) until {@code n} requests are in flight. */
    private static void awaitRequestsInFlight(TestHttp client, int n) throws Exception {
        awaitStatusFigure(client, "requests in flight", status -> status.get("RequestsCurrent"), n);
    }

    /** Polls /status.json until {@code n} pool buffers are taken. */
    private static void awaitBuffersInUse(TestHttp client, int n) throws Exception {
        awaitStatusFigure(client, "buffers in use", status -> status.get("BufferPool").get("BuffersInUse"), n);
    }

    private static void awaitStatusFigure(TestHttp client, String what,
            Function<JsonNode, JsonNode> figure, int n) throws Exception {
        ObjectMapper json = new ObjectMapper();
        int last = -1;
        for (int i = 0; i < 1200; i++) {
            last = figure.apply(json.readTree(client.get("/status.json").body())).asInt();
            if (last == n) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what + " stayed at " + last + ", expected " + n);
    }

    /**
     * Polls /metrics until {@code n} requests are in flight. Unlike a /status.json poll, which is
     * one of the requests it counts, /metrics takes no request slot.
     */
    private static void awaitRequestsInFlightUncounted(TestHttp client, int n) throws Exception {
        String wanted = "\narvados_concurrent_requests " + n + "\n";
        String last = "";
        for (int i = 0; i < 1200; i++) {
            last = client.get("/metrics").text();
            if (last.contains(wanted)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("requests in flight never reached " + n + ":\n" + last);
    }

    @Test
    void corruptLargeBlockEndsInAShortBody() throws Exception {
        byte[] data = TestHttp.randomBlock(8 * 1024 * 1024, 5);
        String locator = store(data);
        String hash = Locator.parse(locator).hash();
        byte[] bad = data.clone();
        bad[bad.length - 1] ^= 1;
        corruptStoredCopies(hash, bad);
        try (Socket s = http.socket()) {
            OutputStream out = s.getOutputStream();
            TestHttp.write(out, "GET /" + locator + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + USER_TOKEN
                    + "\r\n\r\n");
            InputStream in = s.getInputStream();
            TestHttp.Response head = TestHttp.readHead(in);
            if (head.status() == 200) {
                byte[] body;
                try {
                    body = in.readAllBytes();
                } catch (IOException e) {
                    body = new byte[0];
                }
                assertTrue(body.length < data.length, "a corrupt copy never arrives whole");
            } else {
                assertEquals(502, head.status());
            }
        }
    }

    @Test
    void storedBlockRoundTripsAt64MiB() throws Exception {
        byte[] data = TestHttp.randomBlock(Locator.MAX_BLOCK_SIZE, 6);
        String locator = store(data);
        TestHttp.Response r = getSigned(locator);
        assertEquals(200, r.status());
        assertArrayEquals(data, r.body());
    }
}
