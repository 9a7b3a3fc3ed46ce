package org.keepstore.volumes.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.KeepException;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.keepstore.core.VolumeMetrics;

/**
 * The S3 volume against a real S3-compatible server: the reference object layout, the race
 * rules of trash and empty-trash, paging, and refusals.
 *
 * <p>Time: the volume compares "now" (its context clock) with the server's LastModified values,
 * and LastModified values with each other. Trash deadlines pass by running the context clock
 * ahead; a block becomes older than the signature TTL the only way the server can see it, by
 * waiting: tests that trash use a one-second TTL ({@link #SHORT_TTL}) and wait just over it.
 */
class S3VolumeTest {
    static final Duration TTL = Duration.ofDays(14);
    static final Duration TRASH_LIFETIME = Duration.ofDays(7);
    /** S3Proxy's LastModified has one-second granularity: waiting 1.1 s ages a block by >= 1 s. */
    static final Duration SHORT_TTL = Duration.ofSeconds(1);

    private Duration ttl = TTL;

    private S3TestServer server;
    private String bucket;
    private final AdjustableClock clock = new AdjustableClock();
    private final List<Volume> volumes = new ArrayList<>();
    private final Random random = new Random(42);

    @BeforeEach
    void setUp() {
        server = S3TestServer.fromEnvironment();
        bucket = server.newBucket();
    }

    @AfterEach
    void tearDown() throws IOException {
        for (Volume v : volumes) {
            v.close();
        }
        if (server != null) {
            server.deleteBucket(bucket);
            server.close();
        }
    }

    private S3Volume volume(Map<String, Object> extra, Duration trashLifetime) throws IOException {
        Map<String, Object> p = server.parameters(bucket);
        p.putAll(extra);
        Volume v = VolumeDriver.forName("S3").create(p,
                new VolumeContext(clock, trashLifetime, ttl, VolumeMetrics.NONE));
        volumes.add(v);
        return (S3Volume) v;
    }

    private S3Volume volume() throws IOException {
        return volume(Map.of(), TRASH_LIFETIME);
    }

    /** A volume with the short signature TTL that holds {@code data}, written longer ago than that TTL. */
    private S3Volume volumeWithBlockOlderThanShortTtl(String hash, byte[] data) throws IOException {
        ttl = SHORT_TTL;
        S3Volume v = volume();
        v.write(hash, ByteBuffer.wrap(data));
        letShortTtlPass();
        return v;
    }

    /** Makes every block written so far older than {@link #SHORT_TTL} in the server's eyes. */
    private static void letShortTtlPass() {
        try {
            Thread.sleep(SHORT_TTL.toMillis() + 100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private byte[] randomBlock(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    static String md5(byte[] data) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] read(Volume v, String hash) throws IOException {
        try (StoredBlock b = v.open(hash)) {
            byte[] data = b.stream().readAllBytes();
            assertEquals(b.size(), data.length, "Content-Length matches the bytes streamed");
            return data;
        }
    }

    static Map<String, long[]> index(Volume v, String prefix) throws IOException {
        Map<String, long[]> entries = new TreeMap<>();
        v.index(prefix, (hash, size, mtime) -> {
            if (entries.put(hash, new long[] {size, mtime}) != null) {
                throw new AssertionError("listed twice: " + hash);
            }
        });
        return entries;
    }

    @Test
    void writesReadsAndIndexesInTheReferenceLayout() throws IOException {
        S3Volume v = volume();
        byte[] data = randomBlock(100_000);
        String hash = md5(data);
        ByteBuffer buffer = ByteBuffer.allocateDirect(data.length + 10);
        buffer.position(5);
        buffer.put(data).flip().position(5);
        v.write(hash, buffer);
        assertEquals(5, buffer.position(), "the caller's buffer position is untouched");

        assertTrue(server.exists(bucket, hash));
        assertTrue(server.exists(bucket, "recent/" + hash));
        assertArrayEquals(data, read(v, hash));
        long mtime = v.mtimeNanos(hash);
        assertEquals(0, mtime % 1_000_000_000L, "whole seconds, as the reference reports them");
        Map<String, long[]> index = index(v, "");
        assertEquals(1, index.size());
        assertEquals(data.length, index.get(hash)[0]);
        assertEquals(mtime, index.get(hash)[1], "index mtime equals mtimeNanos (trash lists compare them)");
        assertEquals("s3://" + server.endpoint + "/" + bucket, v.deviceId());
    }

    @Test
    void emptyBlockIsStored() throws IOException {
        S3Volume v = volume();
        String empty = "d41d8cd98f00b204e9800998ecf8427e";
        v.write(empty, ByteBuffer.allocate(0));
        assertArrayEquals(new byte[0], read(v, empty));
        assertEquals(0, index(v, "d41").get(empty)[0]);
    }

    @Test
    void missingBlockIsNotFound() throws IOException {
        S3Volume v = volume();
        String hash = md5(randomBlock(10));
        assertThrows(BlockNotFoundException.class, () -> v.open(hash));
        assertThrows(BlockNotFoundException.class, () -> v.mtimeNanos(hash));
        assertThrows(BlockNotFoundException.class, () -> v.touch(hash));
        assertThrows(BlockNotFoundException.class, () -> v.trash(hash));
        assertThrows(BlockNotFoundException.class, () -> v.untrash(hash));
    }

    @Test
    void missingBucketIsAnErrorNotAMissingBlock() throws IOException {
        S3Volume v = volume(Map.of("Bucket", bucket + "-absent"), TRASH_LIFETIME);
        String hash = md5(randomBlock(10));
        IOException e = assertThrows(IOException.class, () -> v.open(hash));
        assertFalse(e instanceof BlockNotFoundException, e.toString());
        assertTrue(e.getMessage().contains("NoSuchBucket"), e.getMessage());
        assertThrows(IOException.class, () -> v.index("", (h, s, m) -> { }));
    }

    @Test
    void contentThatDoesNotMatchItsNameIsStoredAsGiven() throws IOException {
        // The server rejects the block's hash as Content-MD5; the volume resends with the real one.
        S3Volume v = volume();
        String hash = md5(randomBlock(10));
        byte[] other = randomBlock(1000);
        v.write(hash, ByteBuffer.wrap(other));
        assertArrayEquals(other, read(v, hash));
    }

    @Test
    void trashDeadlineCountsFromTheContextClock() throws IOException {
        byte[] data = randomBlock(100);
        String hash = md5(data);
        S3Volume v = volumeWithBlockOlderThanShortTtl(hash, data);
        clock.advance(Duration.ofDays(3));
        v.trash(hash); // at "now + 3 days" by the volume's clock
        clock.advance(TRASH_LIFETIME.minusMinutes(1));
        assertEquals(new EmptyTrashResult(0, 0, 1, 100), v.emptyTrash());
        clock.advance(Duration.ofMinutes(2));
        assertEquals(new EmptyTrashResult(1, 100, 0, 0), v.emptyTrash());
    }

    @Test
    void untrashEmptiesTheTrashSlot() throws IOException {
        byte[] data = randomBlock(100);
        String hash = md5(data);
        S3Volume v = volumeWithBlockOlderThanShortTtl(hash, data);
        v.trash(hash);
        v.untrash(hash);
        assertFalse(server.exists(bucket, "trash/" + hash));
        assertThrows(BlockNotFoundException.class, () -> v.untrash(hash));
        assertEquals(EmptyTrashResult.NONE, v.emptyTrash());
    }

    /** Reference layout prepared by hand, as a reference keepstore would have left a bucket. */
    @ParameterizedTest(name = "PrefixLength {0}")
    @ValueSource(ints = {0, 3})
    void servesABucketWrittenInTheReferenceLayout(int prefixLength) throws IOException {
        byte[] live = randomBlock(1000);
        byte[] unmarked = randomBlock(2000);
        byte[] trashed = randomBlock(3000);
        String liveHash = md5(live);
        String unmarkedHash = md5(unmarked);
        String trashedHash = md5(trashed);
        String p = prefixLength == 0 ? "" : "/";
        java.util.function.Function<String, String> key =
                h -> prefixLength == 0 ? h : h.substring(0, prefixLength) + p + h;
        server.putObject(bucket, key.apply(liveHash), live);
        server.putObject(bucket, "recent/" + key.apply(liveHash), new byte[0]);
        server.putObject(bucket, key.apply(unmarkedHash), unmarked); // written before markers existed
        server.putObject(bucket, "recent/" + key.apply(trashedHash), new byte[0]);
        ttl = SHORT_TTL;
        letShortTtlPass();
        server.putObject(bucket, "trash/" + key.apply(trashedHash), trashed); // trashed when old
        // Things that are not blocks of this layout are never listed.
        server.putObject(bucket, "README", "hello".getBytes());
        server.putObject(bucket, prefixLength == 0 ? "abc/" + liveHash : liveHash, live);

        S3Volume v = volume(Map.of("PrefixLength", prefixLength), TRASH_LIFETIME);

        assertArrayEquals(live, read(v, liveHash));
        assertArrayEquals(unmarked, read(v, unmarkedHash));
        assertThrows(BlockNotFoundException.class, () -> v.open(trashedHash));

        Map<String, long[]> index = index(v, "");
        assertEquals(new java.util.TreeSet<>(List.of(liveHash, unmarkedHash)), index.keySet());
        assertEquals(live.length, index.get(liveHash)[0]);
        assertEquals(unmarked.length, index.get(unmarkedHash)[0]);
        for (String prefix : List.of(liveHash.substring(0, 1), liveHash.substring(0, 2), liveHash.substring(0, 5),
                liveHash)) {
            assertTrue(index(v, prefix).containsKey(liveHash), "prefix " + prefix);
        }
        assertFalse(index(v, "g").containsKey(liveHash));

        // mtime of a block without a marker creates the marker, as the reference does.
        v.mtimeNanos(unmarkedHash);
        assertTrue(server.exists(bucket, "recent/" + key.apply(unmarkedHash)));

        v.untrash(trashedHash);
        assertArrayEquals(trashed, read(v, trashedHash));
        assertTrue(index(v, "").containsKey(trashedHash));
    }

    @Test
    void trashHidesTheBlockUntilUntrash() throws IOException {
        byte[] data = randomBlock(5000);
        String hash = md5(data);
        S3Volume v = volumeWithBlockOlderThanShortTtl(hash, data);
        v.trash(hash);
        assertFalse(server.exists(bucket, hash));
        assertTrue(server.exists(bucket, "trash/" + hash));
        assertThrows(BlockNotFoundException.class, () -> v.open(hash));
        assertThrows(BlockNotFoundException.class, () -> v.mtimeNanos(hash));
        assertFalse(index(v, "").containsKey(hash));

        v.untrash(hash);
        assertArrayEquals(data, read(v, hash));
        assertTrue(index(v, "").containsKey(hash));
    }

    @Test
    void recentlyWrittenBlockIsNotTrashed() throws IOException {
        S3Volume v = volume();
        byte[] data = randomBlock(100);
        String hash = md5(data);
        v.write(hash, ByteBuffer.wrap(data));
        clock.advance(TTL.minusHours(1));
        v.trash(hash);
        assertArrayEquals(data, read(v, hash));
        assertFalse(server.exists(bucket, "trash/" + hash));
    }

    @Test
    void emptyTrashDeletesExpiredTrashAndItsMarkerOnly() throws IOException {
        ttl = SHORT_TTL;
        S3Volume v = volume();
        byte[] expired = randomBlock(700);
        byte[] fresh = randomBlock(300);
        String expiredHash = md5(expired);
        String freshHash = md5(fresh);
        v.write(expiredHash, ByteBuffer.wrap(expired));
        v.write(freshHash, ByteBuffer.wrap(fresh));
        letShortTtlPass();
        v.trash(expiredHash);

        EmptyTrashResult notYet = v.emptyTrash();
        assertEquals(new EmptyTrashResult(0, 0, 1, 700), notYet);

        clock.advance(TRASH_LIFETIME.plusMinutes(1));
        EmptyTrashResult result = v.emptyTrash();
        assertEquals(new EmptyTrashResult(1, 700, 0, 0), result);
        assertFalse(server.exists(bucket, "trash/" + expiredHash));
        assertFalse(server.exists(bucket, "recent/" + expiredHash));
        assertThrows(BlockNotFoundException.class, () -> v.untrash(expiredHash));
        assertArrayEquals(fresh, read(v, freshHash));
        assertTrue(server.exists(bucket, "recent/" + freshHash));
    }

    /**
     * A touch racing with trash: the toucher saw the data object, then the trash moved it away,
     * then the toucher refreshed recent/KEY. Empty-trash must restore the block, not delete it.
     */
    @Test
    void blockTouchedWhileBeingTrashedSurvivesEmptyTrash() throws IOException {
        byte[] data = randomBlock(800);
        String hash = md5(data);
        S3Volume v = volumeWithBlockOlderThanShortTtl(hash, data);
        v.trash(hash);
        server.putObject(bucket, "recent/" + hash, new byte[0]); // the racing toucher's marker
        clock.advance(TRASH_LIFETIME.plusMinutes(1));
        assertEquals(0, v.emptyTrash().deletedBlocks());
        assertArrayEquals(data, read(v, hash));
        assertTrue(index(v, "").containsKey(hash));
        clock.advance(TRASH_LIFETIME.plusMinutes(1));
        v.emptyTrash();
        assertArrayEquals(data, read(v, hash));
    }

    /** A block written again after it was trashed keeps its data and marker when the trash goes. */
    @Test
    void blockRewrittenAfterTrashingKeepsDataAndMarker() throws IOException {
        byte[] data = randomBlock(600);
        String hash = md5(data);
        server.putObject(bucket, "trash/" + hash, data);
        S3Volume v = volume(Map.of(), Duration.ofHours(1));
        assertThrows(BlockNotFoundException.class, () -> v.touch(hash), "trashed counts as absent");
        v.write(hash, ByteBuffer.wrap(data));
        clock.advance(Duration.ofHours(2));
        assertEquals(1, v.emptyTrash().deletedBlocks());
        assertFalse(server.exists(bucket, "trash/" + hash));
        assertTrue(server.exists(bucket, "recent/" + hash));
        assertArrayEquals(data, read(v, hash));
    }

    /**
     * The race itself: a writer refreshed recent/KEY while a trash copied KEY to trash/ and then
     * deleted KEY. The bucket is left with a fresh marker, a fresh trash copy and no data. Read
     * and empty-trash must both restore the block rather than lose it.
     */
    @ParameterizedTest(name = "restored by {0}")
    @ValueSource(strings = {"emptyTrash", "read"})
    void blockLostInARaceWithTrashIsRestored(String how) throws IOException {
        byte[] data = randomBlock(900);
        String hash = md5(data);
        server.putObject(bucket, "trash/" + hash, data);
        server.putObject(bucket, "recent/" + hash, new byte[0]);
        S3Volume v = volume();
        if (how.equals("read")) {
            assertArrayEquals(data, read(v, hash));
        } else {
            clock.advance(TRASH_LIFETIME.plusMinutes(1));
            EmptyTrashResult result = v.emptyTrash();
            assertEquals(0, result.deletedBlocks());
            assertArrayEquals(data, read(v, hash));
        }
        assertTrue(server.exists(bucket, hash));
    }

    @Test
    void trashedBlockWithoutMarkerIsRestoredNotDeleted() throws IOException {
        byte[] data = randomBlock(90);
        String hash = md5(data);
        server.putObject(bucket, "trash/" + hash, data);
        S3Volume v = volume();
        clock.advance(TRASH_LIFETIME.multipliedBy(3));
        assertEquals(0, v.emptyTrash().deletedBlocks());
        assertArrayEquals(data, read(v, hash));
    }

    @Test
    void trashIsRefusedWithoutTrashLifetimeUnlessUnsafeDeleteIsSet() throws IOException {
        ttl = SHORT_TTL;
        S3Volume safe = volume(Map.of(), Duration.ZERO);
        byte[] data = randomBlock(100);
        String hash = md5(data);
        safe.write(hash, ByteBuffer.wrap(data));
        letShortTtlPass();
        KeepException refused = assertThrows(KeepException.class, () -> safe.trash(hash));
        assertEquals(500, refused.status());
        assertTrue(refused.getMessage().contains("UnsafeDelete"), refused.getMessage());
        assertArrayEquals(data, read(safe, hash));

        S3Volume unsafe = volume(Map.of("UnsafeDelete", true), Duration.ZERO);
        unsafe.trash(hash);
        assertFalse(server.exists(bucket, hash));
        assertFalse(server.exists(bucket, "trash/" + hash));
        assertThrows(BlockNotFoundException.class, () -> unsafe.open(hash));
    }

    @Test
    void indexPagesThroughManyBlocksWithASmallPageSize() throws IOException {
        ttl = SHORT_TTL;
        S3Volume v = volume(Map.of("IndexPageSize", 2, "PrefixLength", 1), TRASH_LIFETIME);
        Map<String, Integer> expected = new HashMap<>();
        for (int i = 0; i < 15; i++) {
            byte[] data = randomBlock(10 + i);
            String hash = md5(data);
            v.write(hash, ByteBuffer.wrap(data));
            expected.put(hash, data.length);
        }
        // Trash a few (markers stay, so the marker listing has keys the data listing lacks).
        letShortTtlPass();
        List<String> hashes = new ArrayList<>(new java.util.TreeSet<>(expected.keySet()));
        for (int i = 0; i < hashes.size(); i += 4) {
            v.trash(hashes.get(i));
            expected.remove(hashes.get(i));
        }
        Map<String, long[]> index = index(v, "");
        assertEquals(expected.keySet(), index.keySet());
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            assertEquals(e.getValue().longValue(), index.get(e.getKey())[0]);
            assertEquals(v.mtimeNanos(e.getKey()), index.get(e.getKey())[1]);
        }
    }

    @Test
    void largeBlockRoundTrips() throws IOException {
        S3Volume v = volume();
        byte[] data = randomBlock(64 << 20);
        String hash = md5(data);
        v.write(hash, ByteBuffer.wrap(data));
        assertArrayEquals(data, read(v, hash));
        // Closing early aborts the transfer rather than draining it.
        try (StoredBlock b = v.open(hash)) {
            assertEquals(data.length, b.size());
            assertEquals(data[0] & 0xff, b.stream().read());
        }
    }
}
