package org.keepstore.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.Locator;
import org.keepstore.core.client.KeepClient;
import org.keepstore.core.client.KeepClientException;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keepstore.core.testing.TestData.randomBytes;
import static org.keepstore.core.testing.TestData.md5;

/**
 * Two keepstore processes on loopback, as {@code keep-balance} drives them: server B receives
 * pull lists naming server A and must end up with verified copies, and nothing else.
 */
class PullWorkerIT {

    private static final String USER_TOKEN = "a-user-token";

    @TempDir
    static Path dir;
    private static ClusterServer a;
    private static ClusterServer b;
    private static final BlobSigner signer =
            new BlobSigner(ClusterServer.SIGNING_KEY, Duration.ofDays(14), Clock.systemUTC());

    @BeforeAll
    static void startServers() throws Exception {
        a = new ClusterServer(Files.createDirectories(dir.resolve("a")));
        b = new ClusterServer(Files.createDirectories(dir.resolve("b")));
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

    private static KeepClient clientFor(ClusterServer server) {
        return KeepClient.builder().service(server.root()).token(USER_TOKEN).attempts(1).build();
    }

    /** Stores a block on A (through its HTTP API) and returns its unsigned locator. */
    private static Locator storeOnA(byte[] data) throws Exception {
        return clientFor(a).put(data, 1).locator().withoutSignature();
    }

    private static void pull(String json) throws Exception {
        HttpResponse<String> r = b.admin("PUT", "/pull", json);
        assertEquals(200, r.statusCode(), r.body());
        b.awaitQueueIdle("PullQueue");
    }

    private static String item(Locator locator, String... servers) {
        StringBuilder s = new StringBuilder("{\"locator\":\"" + locator.hashAndSize() + "\",\"servers\":[");
        for (int i = 0; i < servers.length; i++) {
            s.append(i == 0 ? "" : ",").append('"').append(servers[i]).append('"');
        }
        return s.append("],\"mount_uuid\":\"\"}").toString();
    }

    /** Reads a block from B with a signature B accepts, verifying it on the way. */
    private static byte[] readFromB(Locator locator) throws Exception {
        return clientFor(b).get(signer.sign(locator, USER_TOKEN));
    }

    @Test
    void pullListCopiesAVerifiedBlockFromA() throws Exception {
        byte[] data = randomBytes(3 << 20, 1);
        Locator locator = storeOnA(data);
        assertFalse(Files.exists(b.blockFile(locator.hash())));

        pull("[" + item(locator, a.root()) + "]");

        assertArrayEquals(data, readFromB(locator));
        assertArrayEquals(data, Files.readAllBytes(b.blockFile(locator.hash())));
    }

    @Test
    void unreachableServerIsSkippedAndTheNextOneUsed() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            deadPort = socket.getLocalPort();
        }
        byte[] data = randomBytes(70_000, 2);
        Locator locator = storeOnA(data);

        // Bare host:port entries, as keep-balance may send them.
        pull("[" + item(locator, "127.0.0.1:" + deadPort, a.hostPort()) + "]");

        assertArrayEquals(data, readFromB(locator));
    }

    @Test
    void missingBlockIsSkippedWithoutHarmingTheRestOfTheList() throws Exception {
        byte[] missing = "A never had this block".getBytes(StandardCharsets.UTF_8);
        Locator missingLocator = Locator.of(md5(missing), missing.length);
        byte[] first = randomBytes(1000, 3);
        byte[] last = randomBytes(2000, 4);
        Locator firstLocator = storeOnA(first);
        Locator lastLocator = storeOnA(last);

        pull("[" + item(firstLocator, a.root()) + "," + item(missingLocator, a.root()) + ","
                + item(lastLocator, a.root()) + "]");

        assertArrayEquals(first, readFromB(firstLocator));
        assertArrayEquals(last, readFromB(lastLocator));
        KeepClientException e = assertThrows(KeepClientException.class, () -> readFromB(missingLocator));
        assertTrue(e.isNotFound(), e.getMessage());
        assertFalse(Files.exists(b.blockFile(missingLocator.hash())));
    }

    @Test
    void corruptCopyOnAIsNotStoredOnB() throws Exception {
        byte[] data = randomBytes(100_000, 5);
        Locator locator = storeOnA(data);
        Path onA = a.blockFile(locator.hash());
        byte[] corrupt = Files.readAllBytes(onA);
        corrupt[corrupt.length / 2] ^= 0x40;
        Files.write(onA, corrupt);

        pull("[" + item(locator, a.root()) + "]");

        assertFalse(Files.exists(b.blockFile(locator.hash())), "B stored a corrupt copy");
        KeepClientException e = assertThrows(KeepClientException.class, () -> readFromB(locator));
        assertTrue(e.isNotFound(), e.getMessage());
    }

    @Test
    void queueSizesAreReportedInStatusAndMetrics() throws Exception {
        assertTrue(b.status().has("PullQueue"));
        assertTrue(b.status().get("TrashQueue").has("InProgress"));
        String metrics = b.metrics();
        assertTrue(metrics.contains("arvados_keepstore_pull_queue_pending_entries"), metrics);
        assertTrue(metrics.contains("arvados_keepstore_pull_queue_inprogress_entries"), metrics);
        assertTrue(metrics.contains("arvados_keepstore_trash_queue_pending_entries"), metrics);
        assertTrue(metrics.contains("arvados_keepstore_trash_queue_inprogress_entries"), metrics);
    }
}
