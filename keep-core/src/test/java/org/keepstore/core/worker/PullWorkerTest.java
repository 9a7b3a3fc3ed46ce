package org.keepstore.core.worker;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.MemoryVolume;
import org.keepstore.core.Mount;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.core.client.KeepClient;
import org.keepstore.core.client.ScriptedKeepServer;
import org.keepstore.core.client.ScriptedKeepServer.Reply;
import org.keepstore.core.testing.MutableClock;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pull worker against scripted keep servers on 127.0.0.1, writing to memory volumes. */
class PullWorkerTest {

    private static final Duration TTL = Duration.ofDays(14);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final byte[] KEY = "a-signing-key-shared-by-the-cluster".getBytes(StandardCharsets.UTF_8);

    private final MutableClock clock = new MutableClock();
    private final BlobSigner signer = new BlobSigner(KEY, TTL, clock);
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final MemoryVolume volA = volume();
    private final MemoryVolume volB = volume();
    private final MemoryVolume volReadOnly = volume();
    private final Mount mountA = Mount.of("zzzzz-nyw5e-00000000000000a", volA);
    private final Mount mountB = Mount.of("zzzzz-nyw5e-00000000000000b", volB);
    private final Mount mountReadOnly =
            new Mount("zzzzz-nyw5e-00000000000000c", volReadOnly, false, false, 1, Set.of("default"), 0);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private MemoryVolume volume() {
        return new MemoryVolume(new VolumeContext(clock, Duration.ZERO, TTL, VolumeMetrics.NONE));
    }

    private KeepStore store() {
        KeepStore store = new KeepStore(List.of(mountA, mountB, mountReadOnly), new BufferPool(2),
                new KeepStore.Options(clock, TTL, true));
        toClose.add(store);
        return store;
    }

    private PullWorker worker(KeepStore store, int concurrency) {
        KeepClient client = KeepClient.builder().sleeper(d -> { }).attempts(2)
                .requestTimeout(Duration.ofSeconds(20)).build();
        PullWorker worker = new PullWorker(store, signer, client, concurrency);
        toClose.add(worker);
        return worker;
    }

    private ScriptedKeepServer server() throws Exception {
        ScriptedKeepServer s = new ScriptedKeepServer();
        toClose.add(s);
        return s;
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    private static void runList(PullWorker worker, PullItem... items) throws InterruptedException {
        worker.replace(List.of(items));
        assertTrue(worker.awaitIdle(WAIT), "pull list not worked off");
    }

    /** The mount a block without mount_uuid should land on: first writable in rendezvous order. */
    private static MemoryVolume firstWritable(KeepStore store, String hash) {
        for (Mount m : store.rendezvousOrder(hash)) {
            if (m.allowWrite()) {
                return (MemoryVolume) m.volume();
            }
        }
        throw new AssertionError("no writable mount");
    }

    @Test
    void pullsAVerifiedCopySignedForTheClusterOntoTheFirstWritableMount() throws Exception {
        byte[] data = bytes("pull me");
        String hash = md5(data);
        ScriptedKeepServer source = server().always(Reply.ok(data));
        KeepStore store = store();
        PullWorker worker = worker(store, 1);

        runList(worker, new PullItem(hash + "+" + data.length, List.of(source.root()), ""));

        MemoryVolume expected = firstWritable(store, hash);
        assertArrayEquals(data, expected.get(hash));
        assertEquals(1, (volA.contains(hash) ? 1 : 0) + (volB.contains(hash) ? 1 : 0));
        assertFalse(volReadOnly.contains(hash));

        ScriptedKeepServer.Seen request = source.requests().get(0);
        assertEquals("Bearer " + PullWorker.PULL_TOKEN, request.authorization());
        Locator asked = Locator.parse(request.path().substring(1));
        assertEquals(hash, asked.hash());
        assertEquals(BlobSigner.Verdict.VALID, signer.check(asked, PullWorker.PULL_TOKEN));
    }

    @Test
    void aSmallPullNeedsNoPoolBufferAndALargeOneWaitsForOne() throws Exception {
        byte[] small = bytes("small enough for an array of its own");
        byte[] large = new byte[KeepStore.SMALL_BLOCK + 1];
        large[0] = 7;
        ScriptedKeepServer source = server();
        KeepStore store = store();
        PullWorker worker = worker(store, 2);
        source.always(Reply.ok(small));
        // Every pool buffer is taken (by large transfers, say): the small pull still goes through.
        List<BufferPool.Lease> held = new ArrayList<>();
        try {
            for (int i = 0; i < store.bufferPool().maxBuffers(); i++) {
                held.add(store.bufferPool().acquire());
            }
            runList(worker, new PullItem(md5(small) + "+" + small.length, List.of(source.root()), ""));
            assertTrue(volA.contains(md5(small)) || volB.contains(md5(small)));

            source.always(Reply.ok(large));
            worker.replace(List.of(new PullItem(md5(large) + "+" + large.length, List.of(source.root()), "")));
            assertFalse(worker.awaitIdle(Duration.ofMillis(300)), "the large pull waits for a buffer");
        } finally {
            held.forEach(BufferPool.Lease::close);
        }
        assertTrue(worker.awaitIdle(WAIT));
        assertTrue(volA.contains(md5(large)) || volB.contains(md5(large)));
    }

    @Test
    void bareHostPortMeansHttpAndAnUnreachableServerIsSkipped() throws Exception {
        byte[] data = bytes("second server has it");
        String hash = md5(data);
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            deadPort = socket.getLocalPort();
        }
        ScriptedKeepServer source = server().always(Reply.ok(data));
        PullWorker worker = worker(store(), 1);

        runList(worker, new PullItem(hash + "+" + data.length,
                List.of("127.0.0.1:" + deadPort, source.root().substring("http://".length())), null));

        assertTrue(volA.contains(hash) || volB.contains(hash));
        assertEquals(1, source.requests().size());
    }

    @Test
    void aServerThatRefusesIsPassedOverForTheNextOneListed() throws Exception {
        // A holder with another signing key (400), one that wants other credentials (401, 403),
        // or a proxy redirecting: none of that says anything about the servers listed after it.
        for (Reply refusal : List.of(Reply.of(400, "invalid signature"), Reply.of(401, "no token"),
                Reply.of(403, "forbidden"), Reply.of(302, ""))) {
            byte[] data = bytes("refused first, served second " + refusal.status());
            String hash = md5(data);
            ScriptedKeepServer refusing = server().always(refusal);
            ScriptedKeepServer source = server().always(Reply.ok(data));
            PullWorker worker = worker(store(), 1);

            runList(worker, new PullItem(hash + "+" + data.length, List.of(refusing.root(), source.root()), ""));

            assertTrue(volA.contains(hash) || volB.contains(hash), "status " + refusal.status());
            assertEquals(1, refusing.requests().size(), "a refusal is not retried");
        }
    }

    @Test
    void corruptCopyIsNotStoredAndAMissingBlockDoesNotStopTheList() throws Exception {
        byte[] good = bytes("a good block");
        byte[] corrupt = bytes("a good block");
        corrupt[0] ^= 1;
        byte[] other = bytes("another good block");
        String goodHash = md5(good);
        String otherHash = md5(other);
        String missingHash = md5(bytes("nobody has this"));
        ScriptedKeepServer corrupting = server().always(Reply.ok(corrupt));
        ScriptedKeepServer empty = server();  // answers 404 to everything
        ScriptedKeepServer healthy = server().always(Reply.ok(other));
        PullWorker worker = worker(store(), 1);

        runList(worker,
                new PullItem(goodHash + "+" + good.length, List.of(corrupting.root()), ""),
                new PullItem(missingHash + "+15", List.of(empty.root()), ""),
                new PullItem(otherHash + "+" + other.length, List.of(healthy.root()), ""));

        assertFalse(volA.contains(goodHash) || volB.contains(goodHash), "corrupt copy stored");
        assertFalse(volA.contains(missingHash) || volB.contains(missingHash));
        assertTrue(volA.contains(otherHash) || volB.contains(otherHash));
        assertEquals(1, corrupting.requests().size(), "a corrupt copy is not asked for twice");
    }

    @Test
    void namedMountGetsTheCopyAndUnknownOrReadOnlyMountsAreSkipped() throws Exception {
        byte[] data = bytes("for mount b");
        String hash = md5(data);
        ScriptedKeepServer source = server().always(Reply.ok(data));
        PullWorker worker = worker(store(), 1);
        String locator = hash + "+" + data.length;

        runList(worker,
                new PullItem(locator, List.of(source.root()), "zzzzz-nyw5e-nosuchmount0000"),
                new PullItem(locator, List.of(source.root()), mountReadOnly.uuid()),
                new PullItem("not a locator", List.of(source.root()), ""),
                new PullItem(hash, List.of(source.root()), ""));
        assertEquals(0, source.requests().size(), "skipped items fetch nothing");
        assertFalse(volA.contains(hash) || volB.contains(hash) || volReadOnly.contains(hash));

        runList(worker, new PullItem(locator, List.of(source.root()), mountB.uuid()));
        assertTrue(volB.contains(hash));
        assertFalse(volA.contains(hash));
    }

    /** One scripted server per block, each always answering with its block. */
    private List<PullItem> itemsServedByOwnServers(int n, String prefix, List<String> hashes,
                                                   CountDownLatch release) throws Exception {
        List<PullItem> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] data = bytes(prefix + i);
            ScriptedKeepServer source = server().always(Reply.ok(data));
            source.holdResponsesUntil(release);
            hashes.add(md5(data));
            items.add(new PullItem(md5(data) + "+" + data.length, List.of(source.root()), ""));
        }
        return items;
    }

    private boolean stored(String hash) {
        return volA.contains(hash) || volB.contains(hash);
    }

    @Test
    void queueCountsAreExactAndReplaceSwapsTheQueue() throws Exception {
        List<String> hashes = new ArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        List<PullItem> items = itemsServedByOwnServers(4, "block ", hashes, release);
        PullWorker worker = worker(store(), 1);
        assertEquals(0, worker.queued());
        assertEquals(0, worker.inProgress());

        worker.replace(items.subList(0, 3));
        await(() -> worker.inProgress() == 1, "first item in progress");
        assertEquals(2, worker.queued());

        // The new list replaces what is still queued; the item in progress finishes.
        worker.replace(items.subList(3, 4));
        assertEquals(1, worker.queued());
        assertEquals(1, worker.inProgress());

        release.countDown();
        assertTrue(worker.awaitIdle(WAIT));
        assertEquals(0, worker.queued());
        assertEquals(0, worker.inProgress());
        assertTrue(stored(hashes.get(0)));
        assertFalse(stored(hashes.get(1)));
        assertFalse(stored(hashes.get(2)));
        assertTrue(stored(hashes.get(3)));
    }

    @Test
    void severalWorkersShareTheList() throws Exception {
        List<String> hashes = new ArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        List<PullItem> items = itemsServedByOwnServers(8, "shared ", hashes, release);
        PullWorker worker = worker(store(), 3);

        worker.replace(items);
        await(() -> worker.inProgress() == 3, "three items in progress at once");
        assertEquals(5, worker.queued());
        release.countDown();
        assertTrue(worker.awaitIdle(WAIT));
        for (String hash : hashes) {
            assertTrue(stored(hash), hash);
        }
    }

    @Test
    void closeStopsTheWorkersAndDropsTheQueue() throws Exception {
        List<String> hashes = new ArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        List<PullItem> items = itemsServedByOwnServers(3, "closing ", hashes, release);
        PullWorker worker = worker(store(), 1);
        worker.replace(items);
        await(() -> worker.inProgress() == 1, "first item in progress");

        release.countDown();
        worker.close();
        assertEquals(0, worker.queued());
        assertEquals(0, worker.inProgress());
        // A list arriving during shutdown is ignored rather than failing the request.
        worker.replace(items);
        assertEquals(0, worker.queued());
    }
}
