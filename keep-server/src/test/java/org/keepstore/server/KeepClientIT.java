package org.keepstore.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.Locator;
import org.keepstore.core.client.KeepClient;
import org.keepstore.core.client.KeepClientException;
import org.keepstore.core.client.KeepService;
import org.keepstore.core.client.PutResult;
import org.keepstore.core.client.ScriptedKeepServer;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link KeepClient} against real keepstore processes on loopback. */
class KeepClientIT {

    private static final String TOKEN = "client-token";

    @TempDir
    static Path dir;
    private static ClusterServer a;
    private static ClusterServer b;
    private static String deadRoot;
    private static final BlobSigner signer =
            new BlobSigner(ClusterServer.SIGNING_KEY, Duration.ofDays(14), Clock.systemUTC());
    private final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void startServers() throws Exception {
        a = new ClusterServer(Files.createDirectories(dir.resolve("a")));
        b = new ClusterServer(Files.createDirectories(dir.resolve("b")));
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            deadRoot = "http://127.0.0.1:" + socket.getLocalPort();
        }
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private KeepClient.Builder client(String... roots) {
        KeepClient.Builder builder = KeepClient.builder().token(TOKEN).sleeper(sleeps::add)
                .retryDelay(Duration.ofMillis(10), Duration.ofMillis(100));
        for (String root : roots) {
            builder.service(root);
        }
        return builder;
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    /**
     * Access-log lines of {@code server} for requests naming {@code hash}, once there are at
     * least {@code atLeast} of them (the line is logged as the exchange completes, which may be
     * just after the client saw the response).
     */
    private static List<String> requestsFor(ClusterServer server, String method, String hash, int atLeast)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            List<String> lines = server.logLines().stream().filter(l -> l.contains(method + " /" + hash)).toList();
            if (lines.size() >= atLeast || System.nanoTime() > deadline) {
                return lines;
            }
            Thread.sleep(10);
        }
    }

    /** A block for which the client's rendezvous order is exactly {@code wanted}. */
    private static byte[] blockOrderedAs(KeepClient client, List<String> wanted) throws Exception {
        for (int i = 0; ; i++) {
            byte[] data = ("ordered block " + i).getBytes(StandardCharsets.UTF_8);
            List<String> order = client.serviceOrder(md5(data)).stream().map(KeepService::root).toList();
            if (order.equals(wanted)) {
                return data;
            }
        }
    }

    @Test
    void getFailsOverInRendezvousOrderAcrossRealServers() throws Exception {
        KeepClient all = client(a.root(), b.root(), deadRoot).build();
        byte[] data = blockOrderedAs(all, List.of(deadRoot, a.root(), b.root()));
        String hash = md5(data);
        Locator locator = client(b.root()).build().put(data, 1).locator();

        // The dead service is tried first, then A (which has no copy: 404), then B.
        assertArrayEquals(data, all.get(locator));
        List<String> atA = requestsFor(a, "GET", hash, 1);
        List<String> atB = requestsFor(b, "GET", hash, 1);
        assertEquals(1, atA.size(), atA.toString());
        assertTrue(atA.get(0).contains(" 404 "), atA.get(0));
        assertEquals(1, atB.size(), atB.toString());
        assertTrue(atB.get(0).contains(" 200 "), atB.get(0));
        // B answered in the first round, so there was no back-off and no second round.
        assertTrue(sleeps.isEmpty());
    }

    @Test
    void putStoresTheAskedReplicasAcrossServers() throws Exception {
        byte[] data = "two replicas please".getBytes(StandardCharsets.UTF_8);
        PutResult result = client(a.root(), b.root()).build().put(data, 2);
        assertEquals(2, result.replicas());
        assertEquals(BlobSigner.Verdict.VALID, signer.check(result.locator(), TOKEN));
        assertTrue(Files.exists(a.blockFile(md5(data))));
        assertTrue(Files.exists(b.blockFile(md5(data))));
        assertEquals(data.length, client(b.root()).build().head(result.locator()));
    }

    @Test
    void notFoundEverywhereIsNotRetried() throws Exception {
        byte[] data = "nobody stored this".getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        Locator signed = signer.sign(Locator.of(hash, data.length), TOKEN);

        KeepClientException e = assertThrows(KeepClientException.class,
                () -> client(a.root(), b.root()).attempts(3).build().get(signed));
        assertTrue(e.isNotFound(), e.getMessage());
        assertEquals(1, requestsFor(a, "GET", hash, 1).size());
        assertEquals(1, requestsFor(b, "GET", hash, 1).size());
        assertTrue(sleeps.isEmpty());
    }

    @Test
    void badRequestStopsAtOnceWithoutAskingOtherServers() throws Exception {
        byte[] data = "stored but asked for with a forged signature".getBytes(StandardCharsets.UTF_8);
        Locator locator = client(a.root()).build().put(data, 1).locator().withoutSignature();
        Locator forged = Locator.parse(locator + "+A" + "0".repeat(40) + "@" + Long.toHexString(
                System.currentTimeMillis() / 1000 + 3600));
        try (ScriptedKeepServer witness = new ScriptedKeepServer()) {
            // In rendezvous order (one cluster sharing a key) a refusal ends the request: no
            // server after the refusing one is asked. (One before it answers 404.)
            KeepClient client = client(a.root(), witness.root()).build();
            boolean refuserFirst = client.serviceOrder(locator.hash()).get(0).root().equals(KeepService.of(a.root()).root());
            KeepClientException e = assertThrows(KeepClientException.class, () -> client.get(forged));
            assertEquals(400, e.status());
            assertEquals(refuserFirst ? 0 : 1, witness.requests().size());

            // Without a token an enforcing server answers 401: also final.
            KeepClient anonymous = KeepClient.builder().sleeper(sleeps::add)
                    .service(a.root()).service(witness.root()).build();
            int before = witness.requests().size();
            KeepClientException noToken = assertThrows(KeepClientException.class, () -> anonymous.get(locator));
            assertEquals(401, noToken.status());
            assertEquals(refuserFirst ? 0 : 1, witness.requests().size() - before);

            // A pull list's servers are independent sources: the next one is asked.
            before = witness.requests().size();
            KeepClient pullList = client(a.root(), witness.root()).inGivenOrder(true).build();
            assertEquals(400, assertThrows(KeepClientException.class, () -> pullList.get(forged)).status());
            assertEquals(1, witness.requests().size() - before);
        }
        assertTrue(sleeps.isEmpty());
    }

    @Test
    void busyServerAnswering503IsRetriedAfterBackOff() throws Exception {
        try (ClusterServer busy = new ClusterServer(Files.createDirectories(dir.resolve("busy")),
                "-max-requests=1")) {
            byte[] data = "wait for me".getBytes(StandardCharsets.UTF_8);
            Locator locator = client(busy.root()).build().put(data, 1).locator();

            // Occupy the only request slot with an upload that has sent half its body.
            byte[] other = "a slow upload, half sent".getBytes(StandardCharsets.UTF_8);
            URI root = URI.create(busy.root());
            try (Socket slow = new Socket(root.getHost(), root.getPort())) {
                OutputStream out = slow.getOutputStream();
                out.write(("PUT /" + md5(other) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + other.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(other, 0, 5);
                out.flush();
                awaitConcurrentRequests(busy, 1);

                // The first attempt gets 503; while the client backs off, the slot is freed.
                KeepClient client = client(busy.root()).sleeper(delay -> {
                    sleeps.add(delay);
                    try {
                        out.write(other, 5, other.length - 5);
                        out.flush();
                        InputStream in = slow.getInputStream();
                        byte[] head = new byte[12];
                        int n = in.readNBytes(head, 0, 12);
                        assertEquals("HTTP/1.1 200", new String(head, 0, n, StandardCharsets.US_ASCII));
                        awaitConcurrentRequests(busy, 0);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }).build();

                assertArrayEquals(data, client.get(locator));
            }
            assertEquals(1, sleeps.size());
            List<String> gets = requestsFor(busy, "GET", locator.hash(), 2);
            assertEquals(2, gets.size(), gets.toString());
            assertTrue(gets.get(0).contains(" 503 "), gets.get(0));
            assertTrue(gets.get(1).contains(" 200 "), gets.get(1));
        }
    }

    private static void awaitConcurrentRequests(ClusterServer server, int expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String wanted = "arvados_concurrent_requests " + expected;
        while (server.metrics().lines().noneMatch(wanted::equals)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never saw " + wanted);
            }
            Thread.sleep(10);
        }
    }
}
