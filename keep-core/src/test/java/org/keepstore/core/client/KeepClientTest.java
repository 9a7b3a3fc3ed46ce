package org.keepstore.core.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.keepstore.core.BufferPool;
import org.keepstore.core.Locator;
import org.keepstore.core.client.ScriptedKeepServer.Reply;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeepClientTest {

    private static final byte[] DATA = "the quick brown fox".getBytes(StandardCharsets.UTF_8);
    private static final String HASH = KeepClient.md5Hex(DATA, 0, DATA.length);
    private static final Locator LOCATOR = Locator.of(HASH, DATA.length);

    private final List<ScriptedKeepServer> servers = new ArrayList<>();
    private final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stopServers() {
        servers.forEach(ScriptedKeepServer::close);
    }

    private ScriptedKeepServer server() throws IOException {
        ScriptedKeepServer s = new ScriptedKeepServer();
        servers.add(s);
        return s;
    }

    private KeepClient.Builder clientFor(ScriptedKeepServer... list) {
        KeepClient.Builder b = KeepClient.builder().token("tok3n").sleeper(sleeps::add)
                .requestTimeout(Duration.ofSeconds(30));
        for (ScriptedKeepServer s : list) {
            b.service(s.root());
        }
        return b;
    }

    /** The servers in the order the client will try them for HASH. */
    private static List<ScriptedKeepServer> inTryOrder(KeepClient client, List<ScriptedKeepServer> list) {
        Map<String, ScriptedKeepServer> byRoot = list.stream()
                .collect(Collectors.toMap(ScriptedKeepServer::root, Function.identity()));
        return client.serviceOrder(HASH).stream().map(s -> byRoot.get(s.root())).collect(Collectors.toList());
    }

    @Test
    void serviceOrderMatchesTheArvadosSdkReferenceOrders() {
        // The reference orders published with the Arvados Go SDK's root sorter tests: 16 services
        // zzzzz-bi6l4-%015x, block hash = md5 of "%064x" of the row number.
        String[] expected = {"3eab2d5fc9681074", "097dba52e648f1c3", "c5b4e023f8a7d691", "9d81c02e76a3bf54"};
        KeepClient.Builder b = KeepClient.builder();
        for (int i = 0; i < 16; i++) {
            b.service(String.format("https://%x.svc/", i), String.format("zzzzz-bi6l4-%015x", i));
        }
        KeepClient client = b.build();
        for (int row = 0; row < expected.length; row++) {
            String hash = KeepClient.md5Hex(String.format("%064x", row));
            String order = client.serviceOrder(hash).stream()
                    .map(s -> s.root().substring("https://".length(), s.root().indexOf(".svc")))
                    .collect(Collectors.joining());
            assertEquals(expected[row], order, "row " + row);
        }
    }

    @Test
    void servicesWithoutUuidAreOrderedByTheirRootUrl() {
        List<String> roots = List.of("http://a.example:1", "http://b.example:2", "http://c.example:3", "http://d.example:4");
        KeepClient.Builder b = KeepClient.builder();
        roots.forEach(b::service);
        List<String> expected = new ArrayList<>(roots);
        expected.sort((x, y) -> KeepClient.md5Hex(HASH + y).compareTo(KeepClient.md5Hex(HASH + x)));
        assertEquals(expected, b.build().serviceOrder(HASH).stream().map(KeepService::root).collect(Collectors.toList()));
    }

    @Test
    void getReturnsVerifiedDataAndSendsTheTokenAsBearer() throws Exception {
        ScriptedKeepServer a = server().always(Reply.ok(DATA));
        KeepClient client = clientFor(a).build();

        assertArrayEquals(DATA, client.get(LOCATOR + "+Asig@12345678"));
        ScriptedKeepServer.Seen seen = a.requests().get(0);
        assertEquals("GET", seen.method());
        assertEquals("/" + LOCATOR + "+Asig@12345678", seen.path());
        assertEquals("Bearer tok3n", seen.authorization());
    }

    @Test
    void getFailsOverInServiceOrderOn503AndConnectionErrors() throws Exception {
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        ScriptedKeepServer s3 = server();
        KeepClient probe = clientFor(s1, s2, s3).build();
        List<ScriptedKeepServer> order = inTryOrder(probe, List.of(s1, s2, s3));
        order.get(0).always(Reply.of(503, "volume unavailable"));
        order.get(1).always(Reply.of(503, "volume unavailable"));
        order.get(2).always(Reply.ok(DATA));

        assertArrayEquals(DATA, probe.get(LOCATOR));
        assertEquals(1, order.get(0).requests().size());
        assertEquals(1, order.get(1).requests().size());
        assertEquals(1, order.get(2).requests().size());
        assertTrue(sleeps.isEmpty(), "no back-off while untried services remain");
    }

    @Test
    void unreachableServiceIsSkipped() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            deadPort = socket.getLocalPort();
        }
        ScriptedKeepServer good = server().always(Reply.ok(DATA));
        KeepClient client = KeepClient.builder().sleeper(sleeps::add).inGivenOrder(true)
                .service("http://127.0.0.1:" + deadPort).service(good.root()).build();

        assertArrayEquals(DATA, client.get(LOCATOR));
        assertEquals(1, good.requests().size());
    }

    @Test
    void notFoundOnOneServiceAndNoAnswerFromAnotherIsNotANotFound() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            deadPort = socket.getLocalPort();
        }
        ScriptedKeepServer missing = server().always(Reply.of(404, "Not Found"));
        KeepClient client = KeepClient.builder().sleeper(sleeps::add).inGivenOrder(true)
                .service(missing.root()).service("http://127.0.0.1:" + deadPort).build();

        // The unreachable service may hold the block: the caller must not conclude it is gone.
        KeepClientException e = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertFalse(e.isNotFound(), e.getMessage());
        assertEquals(0, e.status());

        // A corrupt answer next to a 404 is reported as a bad answer (502), not as missing.
        ScriptedKeepServer corrupt = server().always(Reply.ok(new byte[DATA.length]));
        KeepClient withCorrupt = KeepClient.builder().sleeper(sleeps::add).inGivenOrder(true)
                .service(missing.root()).service(corrupt.root()).build();
        assertEquals(502, assertThrows(KeepClientException.class, () -> withCorrupt.get(LOCATOR)).status());
    }

    @Test
    void retriesOn503WithBackOffThenSucceeds() throws Exception {
        ScriptedKeepServer a = server().then(Reply.of(503, "busy"), Reply.of(503, "busy")).always(Reply.ok(DATA));
        KeepClient client = clientFor(a).retryDelay(Duration.ofMillis(100), Duration.ofSeconds(1)).build();

        assertArrayEquals(DATA, client.get(LOCATOR));
        assertEquals(3, a.requests().size());
        assertEquals(List.of(Duration.ofMillis(100), Duration.ofMillis(200)), sleeps);
    }

    @Test
    void retriesAreBounded() throws Exception {
        ScriptedKeepServer a = server().always(Reply.of(503, "volume unavailable"));
        KeepClient client = clientFor(a).attempts(4).build();

        KeepClientException e = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertEquals(503, e.status());
        assertEquals(4, a.requests().size());
        assertEquals(3, sleeps.size());
        assertTrue(e.getMessage().contains("volume unavailable"), e.getMessage());
        assertTrue(!e.getMessage().contains("tok3n"));
    }

    @Test
    void http408And429AreRetried() throws Exception {
        ScriptedKeepServer a = server().then(Reply.of(408, "timeout"), Reply.of(429, "slow down")).always(Reply.ok(DATA));
        assertArrayEquals(DATA, clientFor(a).build().get(LOCATOR));
        assertEquals(3, a.requests().size());
    }

    @Test
    void http400IsNotRetriedNorFailedOver() throws Exception {
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        KeepClient client = clientFor(s1, s2).build();
        List<ScriptedKeepServer> order = inTryOrder(client, List.of(s1, s2));
        order.get(0).always(Reply.of(400, "invalid signature"));
        order.get(1).always(Reply.ok(DATA));

        KeepClientException e = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertEquals(400, e.status());
        assertEquals(1, order.get(0).requests().size());
        assertEquals(0, order.get(1).requests().size());
        assertTrue(sleeps.isEmpty());
    }

    @Test
    void http404IsNotRetriedButTheNextServiceIsAsked() throws Exception {
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        KeepClient client = clientFor(s1, s2).build();
        List<ScriptedKeepServer> order = inTryOrder(client, List.of(s1, s2));
        order.get(0).always(Reply.of(404, "Not Found"));
        order.get(1).then(Reply.of(404, "Not Found")).always(Reply.ok(DATA));

        KeepClientException e = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertTrue(e.isNotFound());
        assertEquals(1, order.get(0).requests().size());
        assertEquals(1, order.get(1).requests().size());
        assertTrue(sleeps.isEmpty());

        // The block lives only on the second service: found there.
        assertArrayEquals(DATA, client.get(LOCATOR));
    }

    @Test
    void corruptCopyIsRejectedAndTheNextServiceServesIt() throws Exception {
        byte[] corrupt = DATA.clone();
        corrupt[3] ^= 1;
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        KeepClient client = clientFor(s1, s2).build();
        List<ScriptedKeepServer> order = inTryOrder(client, List.of(s1, s2));
        order.get(0).always(Reply.ok(corrupt));
        order.get(1).always(Reply.ok(DATA));

        assertArrayEquals(DATA, client.get(LOCATOR));

        // Only corrupt copies: an error, and the corrupt service is not asked again.
        order.get(1).always(Reply.ok(corrupt));
        KeepClientException e = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertEquals(2, order.get(0).requests().size());
        assertEquals(2, order.get(1).requests().size());
    }

    @Test
    void bodyLongerOrShorterThanTheSizeHintIsCorrupt() throws Exception {
        byte[] longer = (new String(DATA, StandardCharsets.UTF_8) + "!").getBytes(StandardCharsets.UTF_8);
        ScriptedKeepServer a = server().then(Reply.ok(longer)).always(Reply.ok(new byte[3]));
        KeepClient client = clientFor(a).build();
        KeepClientException e1 = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertTrue(e1.getMessage().contains("corrupt"), e1.getMessage());
        KeepClientException e2 = assertThrows(KeepClientException.class, () -> client.get(LOCATOR));
        assertTrue(e2.getMessage().contains("corrupt"), e2.getMessage());
    }

    @Test
    void getWithoutSizeHintStillVerifiesTheHash() throws Exception {
        byte[] corrupt = DATA.clone();
        corrupt[0] ^= 1;
        ScriptedKeepServer a = server().then(Reply.ok(DATA)).always(Reply.ok(corrupt));
        KeepClient client = clientFor(a).build();
        assertArrayEquals(DATA, client.get(Locator.ofHash(HASH)));
        assertThrows(KeepClientException.class, () -> client.get(Locator.ofHash(HASH)));
    }

    @Test
    void getIntoCallerBuffer() throws Exception {
        ScriptedKeepServer a = server().always(Reply.ok(DATA));
        byte[] buffer = new byte[64];
        int n = clientFor(a).build().get(LOCATOR, buffer);
        assertEquals(DATA.length, n);
        assertArrayEquals(DATA, java.util.Arrays.copyOf(buffer, n));
    }

    @Test
    void getIntoPoolBuffer() throws Exception {
        ScriptedKeepServer a = server().always(Reply.ok(DATA));
        try (BufferPool.Lease lease = new BufferPool(1, 64).acquire()) {
            ByteBuffer buffer = lease.buffer().position(7);
            int n = clientFor(a).build().get(LOCATOR, buffer);
            assertEquals(DATA.length, n);
            assertEquals(7, buffer.position(), "position and limit are left alone");
            byte[] got = new byte[n];
            buffer.get(0, got);
            assertArrayEquals(DATA, got);
        }
    }

    @Test
    void stalledResponseTimesOutAndTheNextServiceIsTried() throws Exception {
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        KeepClient client = clientFor(s1, s2).inGivenOrder(true).attempts(1)
                .requestTimeout(Duration.ofMillis(300)).build();
        s1.always(Reply.ok(DATA).stalling(20_000));
        s2.always(Reply.ok(DATA));

        assertArrayEquals(DATA, client.get(LOCATOR));
        assertEquals(1, s2.requests().size());
    }

    @Test
    @Timeout(120) // a hang here is the failure: the request timeout is 10 minutes
    void readThatReceivesNothingForTheStallTimeoutIsAbandonedLongBeforeTheRequestTimeout() throws Exception {
        ScriptedKeepServer midBody = server().always(Reply.ok(DATA).stalling(600_000));
        ScriptedKeepServer noHeaders = server();
        CountDownLatch never = new CountDownLatch(1);
        noHeaders.holdResponsesUntil(never);
        ScriptedKeepServer good = server().always(Reply.ok(DATA));
        KeepClient client = clientFor(midBody, noHeaders, good).inGivenOrder(true).attempts(1)
                .requestTimeout(Duration.ofMinutes(10)).stallTimeout(Duration.ofMillis(300)).build();
        try {
            assertArrayEquals(DATA, client.get(LOCATOR));
            assertEquals(1, midBody.requests().size());
            assertEquals(1, good.requests().size());

            KeepClient headOnly = clientFor(noHeaders).attempts(1)
                    .requestTimeout(Duration.ofMinutes(10)).stallTimeout(Duration.ofMillis(300)).build();
            KeepClientException e = assertThrows(KeepClientException.class, () -> headOnly.head(LOCATOR));
            assertTrue(e.getMessage().contains("stalled"), e.getMessage());
        } finally {
            never.countDown();
        }
    }

    @Test
    void timeoutsTooLongToCountInNanosecondsMeanNoTimeout() throws Exception {
        ScriptedKeepServer s = server().always(Reply.ok(DATA));
        KeepClient client = clientFor(s).requestTimeout(Duration.ofMillis(Long.MAX_VALUE))
                .stallTimeout(Duration.ofSeconds(Long.MAX_VALUE)).build();
        assertArrayEquals(DATA, client.get(LOCATOR));
        assertEquals(DATA.length, client.head(LOCATOR));
    }

    @Test
    void aSlowButSteadyReadIsNotAStall() throws Exception {
        // 8 parts 400 ms apart: 2.8 s in all, far beyond the stall timeout, never silent that long.
        ScriptedKeepServer slow = server().always(Reply.ok(DATA).trickling(8, 400));
        KeepClient client = clientFor(slow).attempts(1).stallTimeout(Duration.ofMillis(2000)).build();

        assertArrayEquals(DATA, client.get(LOCATOR));
        assertEquals(1, slow.requests().size());
    }

    @Test
    void headReportsTheSize() throws Exception {
        ScriptedKeepServer a = server().always(Reply.ok(DATA));
        KeepClient client = clientFor(a).build();
        assertEquals(DATA.length, client.head(LOCATOR));
        assertEquals("HEAD", a.requests().get(0).method());
    }

    @Test
    void putWritesToServicesUntilEnoughReplicasAreStored() throws Exception {
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        ScriptedKeepServer s3 = server();
        KeepClient client = clientFor(s1, s2, s3).build();
        List<ScriptedKeepServer> order = inTryOrder(client, List.of(s1, s2, s3));
        String signed = LOCATOR + "+A0123456789abcdef0123456789abcdef01234567@7fffffff";
        order.get(0).always(Reply.of(503, "busy"));
        order.get(1).always(Reply.of(200, signed + "\n").withHeader("X-Keep-Replicas-Stored", "1"));
        order.get(2).always(Reply.of(200, signed + "\n").withHeader("X-Keep-Replicas-Stored", "2"));

        PutResult result = client.put(DATA, 3);
        assertEquals(signed, result.locator().toString());
        assertEquals(3, result.replicas());
        // The 503 service is retried once; it never accepts, but the others sufficed.
        assertEquals(1, order.get(1).requests().size());
        assertEquals(1, order.get(2).requests().size());
        ScriptedKeepServer.Seen put = order.get(1).requests().get(0);
        assertEquals("PUT", put.method());
        assertEquals("/" + HASH, put.path());
        assertEquals(DATA.length, put.bodyLength());
        assertEquals("Bearer tok3n", put.authorization());
    }

    @Test
    void putStopsAsSoonAsEnoughReplicasAreStored() throws Exception {
        ScriptedKeepServer s1 = server();
        ScriptedKeepServer s2 = server();
        KeepClient client = clientFor(s1, s2).build();
        List<ScriptedKeepServer> order = inTryOrder(client, List.of(s1, s2));
        order.get(0).always(Reply.of(200, LOCATOR + "\n").withHeader("X-Keep-Replicas-Stored", "2"));

        assertEquals(2, client.put(DATA, 2).replicas());
        assertEquals(0, order.get(1).requests().size());
    }

    @Test
    void putWithTooFewReplicasSaysWhatWasStored() throws Exception {
        ScriptedKeepServer a = server().always(Reply.of(200, LOCATOR + "\n"));
        ScriptedKeepServer full = server().always(Reply.of(507, "insufficient storage"));
        KeepClient client = clientFor(a, full).build();

        InsufficientReplicasException e = assertThrows(InsufficientReplicasException.class, () -> client.put(DATA, 2));
        assertEquals(1, e.result().replicas());
        assertEquals(LOCATOR, e.result().locator());
        assertEquals(1, full.requests().size(), "507 is not retried");
    }

    @Test
    void put413And400AreNotRetriedNorFailedOver() throws Exception {
        for (int status : new int[] {413, 400, 401, 403}) {
            ScriptedKeepServer s1 = server();
            ScriptedKeepServer s2 = server();
            KeepClient client = clientFor(s1, s2).build();
            List<ScriptedKeepServer> order = inTryOrder(client, List.of(s1, s2));
            order.get(0).always(Reply.of(status, "no"));
            order.get(1).always(Reply.of(200, LOCATOR + "\n"));

            KeepClientException e = assertThrows(KeepClientException.class, () -> client.put(DATA, 1));
            assertEquals(status, e.status());
            assertEquals(1, order.get(0).requests().size());
            assertEquals(0, order.get(1).requests().size());
        }
        assertTrue(sleeps.isEmpty());
    }

    @Test
    void putRejectsAResponseForAnotherBlock() throws Exception {
        ScriptedKeepServer liar = server().always(Reply.of(200, Locator.EMPTY_BLOCK_HASH + "+0\n"));
        KeepClientException e = assertThrows(KeepClientException.class, () -> clientFor(liar).build().put(DATA, 1));
        assertTrue(e.getMessage().contains("another block"), e.getMessage());

        // The right hash with another size: a locator no read would accept for these bytes.
        ScriptedKeepServer wrongSize = server().always(Reply.of(200, HASH + "+999\n"));
        KeepClientException size = assertThrows(KeepClientException.class,
                () -> clientFor(wrongSize).build().put(DATA, 1));
        assertTrue(size.getMessage().contains("size 999"), size.getMessage());
    }

    @Test
    void aTokenAHeaderCannotCarryIsRefusedWhenTheClientIsBuilt() {
        assertThrows(IllegalArgumentException.class, () -> KeepClient.builder().token("tok3n\n"));
        assertThrows(IllegalArgumentException.class, () -> KeepClient.builder().token("two words"));
        KeepClient.builder().token("v2/zzzzz-gj3su-000000000000000/secret").token(null).build();
    }

    @Test
    void pullListEntriesWithoutSchemeMeanHttp() {
        assertEquals("http://keep0.example:25107", KeepService.fromPullListEntry("keep0.example:25107").root());
        assertEquals("https://keep0.example:25107", KeepService.fromPullListEntry("https://keep0.example:25107/").root());
    }
}
