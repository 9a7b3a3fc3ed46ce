package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keepstore.core.testing.MutableClock;
import org.keepstore.core.testing.TestData;

/**
 * The behaviour every {@link Volume} driver must show (SPEC §8). A driver's test subclasses this
 * and supplies fresh, empty volumes through {@link #newVolume}; capability hooks cover the few
 * places where backends legitimately differ.
 *
 * <p>Time: every volume gets a context whose clock the contract controls. The clock only ever
 * moves forward, and by whole seconds or more, because cloud backends take mtimes from their
 * server's own clock with one-second granularity; a backend that needs real time to pass as well
 * overrides {@link #advanceTime}.
 *
 * <p>Data sizes are kept small except in the one 64 MiB round trip.
 */
public abstract class VolumeContract {

    /** Trash lifetime of the volume each test starts with. */
    protected static final Duration TRASH_LIFETIME = Duration.ofHours(1);

    private final List<Volume> opened = new ArrayList<>();
    private final Random random = new Random(20240601L);
    private MutableClock clock;

    /** The volume of the current test, created fresh (and empty) before each test. */
    protected Volume volume;

    /**
     * A new, empty volume using {@code context} (its clock, trash lifetime and metrics). Called
     * at least once per test (before it) and again by tests that need another trash lifetime;
     * every call must return a volume over storage no earlier call used (a new directory,
     * bucket, container or key prefix). The contract closes every volume after the test.
     */
    protected abstract Volume newVolume(VolumeContext context) throws Exception;

    /**
     * Whether {@link Volume#trash} with a zero trash lifetime deletes the block. Drivers that
     * consider that unsafe (S3 without {@code UnsafeDelete}) return false, and must then refuse
     * with a {@link KeepException}.
     */
    protected boolean deletesWhenTrashLifetimeIsZero() {
        return true;
    }

    /**
     * Whether the volume stamps mtimes with its context's clock, to the nanosecond (directory,
     * memory). Backends whose server stamps mtimes (S3, Azure) return false; their mtimes are
     * then only checked to move forward.
     */
    protected boolean mtimeIsTheContextClock() {
        return true;
    }

    /**
     * Leaves behind what a write interrupted by a crash leaves on this backend (e.g. a temporary
     * file with part of the data). Drivers without such leftovers keep the default, which skips
     * the test that uses it.
     */
    protected void leavePartialWrite(Volume volume, String hash, byte[] partialData) throws Exception {
        Assumptions.abort("this backend has no partial-write leftovers to plant");
    }

    /**
     * Moves time forward by {@code amount} (always at least one second). The default moves only
     * the contract's clock. A backend whose server stamps mtimes itself overrides this to call
     * {@code super.advanceTime(amount)} and then sleep just over one second of real time, so the
     * server's next timestamp differs from its last (the contract never needs more real time).
     */
    protected void advanceTime(Duration amount) throws Exception {
        if (amount.isNegative()) {
            throw new IllegalArgumentException("the contract's clock only moves forward");
        }
        clock.advance(amount);
    }

    /** The clock every volume of this test was given. */
    protected final MutableClock clock() {
        return clock;
    }

    /** A context with the contract's clock and the given trash lifetime. */
    protected final VolumeContext context(Duration trashLifetime) {
        return new VolumeContext(clock, trashLifetime, Duration.ofDays(14), VolumeMetrics.NONE);
    }

    /** Opens a further volume (with its own empty storage) that is closed after the test. */
    protected final Volume openVolume(Duration trashLifetime) throws Exception {
        Volume v = newVolume(context(trashLifetime));
        assertNotNull(v, "newVolume returned null");
        opened.add(v);
        return v;
    }

    @BeforeEach
    void openFreshVolume() throws Exception {
        // Start from a realistic "now", truncated to whole seconds so deadlines line up.
        clock = new MutableClock(Instant.ofEpochSecond(Instant.now().getEpochSecond()));
        volume = openVolume(TRASH_LIFETIME);
    }

    @AfterEach
    void closeVolumes() throws Exception {
        for (Volume v : opened) {
            v.close();
        }
        opened.clear();
    }

    // ---- read and write ----

    @Test
    void writtenBlockReadsBackIdentically() throws Exception {
        byte[] data = randomBytes(100_000);
        String hash = md5(data);
        volume.write(hash, ByteBuffer.wrap(data));
        assertArrayEquals(data, readAll(volume, hash));
    }

    @Test
    void emptyBlockRoundTrips() throws Exception {
        volume.write(Locator.EMPTY_BLOCK_HASH, ByteBuffer.allocate(0));
        try (StoredBlock b = volume.open(Locator.EMPTY_BLOCK_HASH)) {
            assertEquals(0, b.size());
            assertEquals(-1, b.stream().read());
        }
        assertEquals(Map.of(Locator.EMPTY_BLOCK_HASH, 0L), sizesIn(index(volume, "")));
    }

    @Test
    void maximumSizeBlockRoundTrips() throws Exception {
        byte[] data = randomBytes(Locator.MAX_BLOCK_SIZE);
        String hash = md5(data);
        volume.write(hash, ByteBuffer.wrap(data));
        data = null; // let the 64 MiB go before reading another 64 MiB
        try (StoredBlock b = volume.open(hash)) {
            assertEquals(Locator.MAX_BLOCK_SIZE, b.size());
            MessageDigest md = MessageDigest.getInstance("MD5");
            byte[] chunk = new byte[1 << 20];
            long total = 0;
            for (int n; (n = b.stream().read(chunk)) > 0; ) {
                md.update(chunk, 0, n);
                total += n;
            }
            assertEquals(Locator.MAX_BLOCK_SIZE, total);
            assertEquals(hash, HexFormat.of().formatHex(md.digest()));
        }
    }

    @Test
    void writeUsesTheBufferFromPositionToLimit() throws Exception {
        byte[] data = randomBytes(5000);
        byte[] framed = new byte[data.length + 200];
        System.arraycopy(data, 0, framed, 100, data.length);
        String hash = md5(data);
        ByteBuffer buffer = ByteBuffer.wrap(framed, 100, data.length);
        volume.write(hash, buffer);
        assertArrayEquals(data, readAll(volume, hash));
    }

    @Test
    void overwriteReplacesTheBlock() throws Exception {
        String hash = md5(randomBytes(10));
        volume.write(hash, ByteBuffer.wrap(randomBytes(3000)));
        byte[] second = randomBytes(2000);
        volume.write(hash, ByteBuffer.wrap(second));
        assertArrayEquals(second, readAll(volume, hash));
        assertEquals(Map.of(hash, 2000L), sizesIn(index(volume, "")));
    }

    @Test
    void readersNeverSeeAPartialOrMixedBlockDuringOverwrites() throws Exception {
        // The volume does not check hashes, so two different contents can alternate under one
        // name; a reader must always get one of them whole.
        String hash = md5(randomBytes(16));
        byte[] a = filled(512 * 1024, (byte) 'a');
        byte[] b = filled(384 * 1024, (byte) 'b');
        volume.write(hash, ByteBuffer.wrap(a));

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<String> badRead = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Integer>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(pool.submit(() -> {
                    int reads = 0;
                    while (writing.get() || reads == 0) {
                        byte[] got = readAll(volume, hash);
                        reads++;
                        if (!java.util.Arrays.equals(got, a) && !java.util.Arrays.equals(got, b)) {
                            badRead.compareAndSet(null, "read " + got.length + " bytes matching neither version");
                        }
                    }
                    return reads;
                }));
            }
            for (int i = 0; i < 30; i++) {
                volume.write(hash, ByteBuffer.wrap(i % 2 == 0 ? b : a));
            }
            writing.set(false);
            for (Future<Integer> f : readers) {
                assertTrue(f.get(2, TimeUnit.MINUTES) > 0);
            }
        } finally {
            writing.set(false);
            pool.shutdownNow();
        }
        assertEquals(null, badRead.get());
        assertArrayEquals(a, readAll(volume, hash));
    }

    @Test
    void concurrentWritersOfOneBlockLeaveOneIntactCopy() throws Exception {
        byte[] data = randomBytes(300_000);
        String hash = md5(data);
        int writers = 6;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Void>> results = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                results.add(pool.submit((Callable<Void>) () -> {
                    start.await();
                    for (int round = 0; round < 5; round++) {
                        volume.write(hash, ByteBuffer.wrap(data));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<Void> f : results) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertArrayEquals(data, readAll(volume, hash));
        List<Entry> listed = index(volume, "");
        assertEquals(1, listed.size(), "index: " + listed);
        assertEquals(new Entry(hash, data.length, volume.mtimeNanos(hash)), listed.get(0));
    }

    // ---- not found ----

    /**
     * {@link Volume#readIfAtHand} is optional, but what it gives is exactly the stored block:
     * never a trashed, overwritten or missing one, never part of one that does not fit.
     */
    @Test
    void readIfAtHandGivesTheStoredBlockOrNothing() throws Exception {
        byte[] data = randomBytes(5000);
        String hash = md5(data);
        volume.write(hash, ByteBuffer.wrap(data));
        ByteBuffer into = ByteBuffer.allocate(8192);
        int length = volume.readIfAtHand(hash, into);
        if (length != Volume.NOT_AT_HAND) {
            assertEquals(data.length, length);
            assertEquals(data.length, into.position());
            assertArrayEquals(data, java.util.Arrays.copyOf(into.array(), length));
        }
        ByteBuffer tooSmall = ByteBuffer.allocate(data.length - 1);
        assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(hash, tooSmall));

        byte[] other = randomBytes(4999);
        volume.write(hash, ByteBuffer.wrap(other)); // an overwrite (the hash does not matter to a volume)
        length = volume.readIfAtHand(hash, into.clear());
        if (length != Volume.NOT_AT_HAND) {
            assertArrayEquals(other, java.util.Arrays.copyOf(into.array(), length));
        }

        volume.trash(hash);
        assertTrue(List.of(Volume.ABSENT, Volume.NOT_AT_HAND).contains(volume.readIfAtHand(hash, into.clear())),
                "a trashed block is never at hand");
        String missing = md5("never written".getBytes());
        assertTrue(List.of(Volume.ABSENT, Volume.NOT_AT_HAND).contains(volume.readIfAtHand(missing, into.clear())));
        assertEquals(0, into.position(), "nothing is read for a block that is not there");
    }

    @Test
    void missingBlockIsNotFoundEverywhere() throws Exception {
        String hash = md5("never written".getBytes());
        assertThrows(BlockNotFoundException.class, () -> volume.open(hash).close());
        assertThrows(BlockNotFoundException.class, () -> volume.touch(hash));
        assertThrows(BlockNotFoundException.class, () -> volume.mtimeNanos(hash));
        assertThrows(BlockNotFoundException.class, () -> volume.trash(hash));
        assertThrows(BlockNotFoundException.class, () -> volume.untrash(hash));
    }

    @Test
    void untrashOfABlockThatIsNotInTrashIsNotFound() throws Exception {
        String hash = writeRandom(volume, 100);
        assertThrows(BlockNotFoundException.class, () -> volume.untrash(hash));
        assertEquals(100, readAll(volume, hash).length);
    }

    // ---- mtime and touch ----

    @Test
    void writeSetsMtimeToNow() throws Exception {
        long before = clock.instant().getEpochSecond();
        String hash = writeRandom(volume, 100);
        long mtimeSeconds = TimeUnit.NANOSECONDS.toSeconds(volume.mtimeNanos(hash));
        // Server-stamped backends may differ from our clock; it must still be "about now".
        assertTrue(Math.abs(mtimeSeconds - before) < 3600, "mtime " + mtimeSeconds + " far from now " + before);
    }

    @Test
    void writeTouchAndUntrashStampTheContextClockExactly() throws Exception {
        Assumptions.assumeTrue(mtimeIsTheContextClock(), "this backend's server stamps mtimes");
        clock.advance(Duration.ofSeconds(1).plusNanos(123_456_789));
        String hash = writeRandom(volume, 100);
        assertEquals(clock.nanos(), volume.mtimeNanos(hash));
        clock.advance(Duration.ofSeconds(1).plusNanos(1));
        volume.touch(hash);
        assertEquals(clock.nanos(), volume.mtimeNanos(hash));
        volume.trash(hash);
        clock.advance(Duration.ofSeconds(1).plusNanos(7));
        volume.untrash(hash);
        assertEquals(clock.nanos(), volume.mtimeNanos(hash));
    }

    @Test
    void touchMovesMtimeForward() throws Exception {
        String hash = writeRandom(volume, 100);
        long written = volume.mtimeNanos(hash);
        advanceTime(Duration.ofSeconds(2));
        volume.touch(hash);
        long touched = volume.mtimeNanos(hash);
        assertTrue(touched > written, "touch did not move mtime forward: " + written + " -> " + touched);
    }

    @Test
    void mtimeMatchesTheIndex() throws Exception {
        String first = writeRandom(volume, 10);
        advanceTime(Duration.ofSeconds(1));
        String second = writeRandom(volume, 20);
        advanceTime(Duration.ofSeconds(1));
        volume.touch(first);
        Map<String, Entry> listed = byHash(index(volume, ""));
        assertEquals(volume.mtimeNanos(first), listed.get(first).mtimeNanos());
        assertEquals(volume.mtimeNanos(second), listed.get(second).mtimeNanos());
    }

    // ---- trash, untrash, empty trash ----

    @Test
    void trashedBlockIsInvisible() throws Exception {
        String hash = writeRandom(volume, 1000);
        String other = writeRandom(volume, 1000);
        volume.trash(hash);
        assertThrows(BlockNotFoundException.class, () -> volume.open(hash).close());
        assertThrows(BlockNotFoundException.class, () -> volume.mtimeNanos(hash));
        assertThrows(BlockNotFoundException.class, () -> volume.touch(hash));
        assertThrows(BlockNotFoundException.class, () -> volume.trash(hash));
        assertEquals(List.of(other), hashesIn(index(volume, "")));
        assertEquals(List.of(), hashesIn(index(volume, hash)));
    }

    @Test
    void untrashRestoresTheBlockWithAFreshMtime() throws Exception {
        byte[] data = randomBytes(1234);
        String hash = md5(data);
        volume.write(hash, ByteBuffer.wrap(data));
        long written = volume.mtimeNanos(hash);
        volume.trash(hash);
        advanceTime(Duration.ofSeconds(2));
        volume.untrash(hash);
        assertArrayEquals(data, readAll(volume, hash));
        assertTrue(volume.mtimeNanos(hash) > written, "untrash must set mtime to now");
        assertEquals(List.of(hash), hashesIn(index(volume, "")));
        // Restored means no longer in trash.
        assertThrows(BlockNotFoundException.class, () -> volume.untrash(hash));
    }

    @Test
    void untrashRestoresTheMostRecentlyTrashedCopy() throws Exception {
        String hash = md5(randomBytes(8));
        byte[] older = filled(100, (byte) 1);
        byte[] newer = filled(200, (byte) 2);
        volume.write(hash, ByteBuffer.wrap(older));
        volume.trash(hash);
        advanceTime(Duration.ofSeconds(2));
        volume.write(hash, ByteBuffer.wrap(newer));
        volume.trash(hash);
        advanceTime(Duration.ofSeconds(2));
        volume.untrash(hash);
        assertArrayEquals(newer, readAll(volume, hash));
    }

    @Test
    void trashWithZeroLifetimeDeletes() throws Exception {
        Volume v = openVolume(Duration.ZERO);
        String hash = writeRandom(v, 500);
        if (deletesWhenTrashLifetimeIsZero()) {
            v.trash(hash);
            assertThrows(BlockNotFoundException.class, () -> v.open(hash).close());
            assertThrows(BlockNotFoundException.class, () -> v.untrash(hash));
            assertEquals(List.of(), index(v, ""));
            assertEquals(0, v.emptyTrash().remainingBlocks());
        } else {
            KeepException refused = assertThrows(KeepException.class, () -> v.trash(hash));
            assertFalse(refused instanceof BlockNotFoundException, "refusal must not look like not-found");
            assertEquals(500, readAll(v, hash).length);
        }
    }

    @Test
    void emptyTrashDeletesOnlyAfterTheDeadline() throws Exception {
        String early = writeRandom(volume, 300);
        String kept = writeRandom(volume, 400);
        volume.trash(early);
        advanceTime(Duration.ofMinutes(30));
        String late = writeRandom(volume, 500);
        volume.trash(late);

        EmptyTrashResult nothingDue = volume.emptyTrash();
        assertEquals(0, nothingDue.deletedBlocks());
        assertEquals(2, nothingDue.remainingBlocks());
        assertEquals(800, nothingDue.remainingBytes());

        // Past the first deadline, before the second.
        advanceTime(Duration.ofMinutes(30).plusSeconds(2));
        EmptyTrashResult firstDue = volume.emptyTrash();
        assertEquals(1, firstDue.deletedBlocks());
        assertEquals(300, firstDue.deletedBytes());
        assertEquals(1, firstDue.remainingBlocks());
        assertThrows(BlockNotFoundException.class, () -> volume.untrash(early));

        // The untouched block and the later trash are unaffected; the later trash can come back.
        assertEquals(400, readAll(volume, kept).length);
        volume.untrash(late);
        assertEquals(500, readAll(volume, late).length);
        assertEquals(EmptyTrashResult.NONE, volume.emptyTrash());
        assertEquals(List.of(kept, late).stream().sorted().toList(), hashesIn(index(volume, "")));
    }

    @Test
    void emptyTrashLeavesLiveBlocksAlone() throws Exception {
        String hash = writeRandom(volume, 100);
        advanceTime(TRASH_LIFETIME.multipliedBy(3));
        assertEquals(EmptyTrashResult.NONE, volume.emptyTrash());
        assertEquals(100, readAll(volume, hash).length);
    }

    // ---- index ----

    @Test
    void indexListsEveryBlockWithSizeAndMtime() throws Exception {
        Map<String, Integer> sizes = new TreeMap<>();
        for (int i = 0; i < 12; i++) {
            int size = 1 + random.nextInt(2000);
            sizes.put(writeRandom(volume, size), size);
        }
        List<Entry> listed = index(volume, "");
        assertEquals(sizes.size(), listed.size());
        for (Entry e : listed) {
            assertTrue(Locator.isHash(e.hash()), e.hash());
            assertEquals((long) sizes.get(e.hash()), e.size());
            assertEquals(volume.mtimeNanos(e.hash()), e.mtimeNanos());
        }
    }

    @Test
    void indexFiltersByPrefix() throws Exception {
        List<String> hashes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            hashes.add(writeRandom(volume, 10 + i));
        }
        String sample = hashes.get(0);
        for (String prefix : List.of("", sample.substring(0, 1), sample.substring(0, 2), sample.substring(0, 3),
                sample.substring(0, 4), sample)) {
            List<String> expected = hashes.stream().filter(h -> h.startsWith(prefix)).sorted().toList();
            assertEquals(expected, hashesIn(index(volume, prefix)), "prefix '" + prefix + "'");
        }
        String absent = "0123456789abcdef0123456789abcdef".equals(sample) ? "fedcba9876543210fedcba9876543210"
                : "0123456789abcdef0123456789abcdef";
        assertEquals(hashes.contains(absent) ? List.of(absent) : List.of(), hashesIn(index(volume, absent)));
    }

    @Test
    void indexOfAnEmptyVolumeIsEmpty() throws Exception {
        assertEquals(List.of(), index(volume, ""));
        assertEquals(List.of(), index(volume, "abc"));
    }

    @Test
    void indexNeverListsTrash() throws Exception {
        String live = writeRandom(volume, 10);
        String trashed = writeRandom(volume, 20);
        volume.trash(trashed);
        assertEquals(List.of(live), hashesIn(index(volume, "")));
        assertEquals(List.of(), hashesIn(index(volume, trashed.substring(0, 3)).stream()
                .filter(e -> e.hash().equals(trashed)).toList()));
    }

    @Test
    void partialWritesAreNeverListedOrRead() throws Exception {
        byte[] data = randomBytes(4000);
        String hash = md5(data);
        leavePartialWrite(volume, hash, java.util.Arrays.copyOf(data, 1000));
        assertEquals(List.of(), index(volume, ""));
        assertThrows(BlockNotFoundException.class, () -> volume.open(hash).close());
        assertEquals(EmptyTrashResult.NONE, volume.emptyTrash());
        volume.write(hash, ByteBuffer.wrap(data));
        assertArrayEquals(data, readAll(volume, hash));
        assertEquals(List.of(hash), hashesIn(index(volume, "")));
    }

    // ---- status, device id, close ----

    @Test
    void statusDescribesTheVolume() throws Exception {
        writeRandom(volume, 100);
        VolumeStatus status = volume.status();
        assertNotNull(status);
        assertNotNull(status.mountPoint());
        assertEquals(volume.deviceId(), status.deviceId());
        assertTrue(status.bytesFree() >= -1);
        assertTrue(status.bytesUsed() >= -1);
    }

    @Test
    void deviceIdIsStable() throws Exception {
        String id = volume.deviceId();
        assertNotNull(id);
        assertFalse(id.isBlank());
        assertEquals(id, volume.deviceId());
    }

    @Test
    void closeReleasesTheVolume() throws Exception {
        Volume v = newVolume(context(TRASH_LIFETIME));
        writeRandom(v, 10);
        v.close();
    }

    // ---- helpers for subclasses ----

    protected final byte[] randomBytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    protected final String writeRandom(Volume v, int size) throws IOException {
        byte[] data = randomBytes(size);
        String hash = md5(data);
        v.write(hash, ByteBuffer.wrap(data));
        return hash;
    }

    protected static byte[] readAll(Volume v, String hash) throws IOException {
        try (StoredBlock b = v.open(hash); InputStream in = b.stream()) {
            byte[] got = in.readAllBytes();
            assertEquals(b.size(), got.length, "stored size and bytes read differ for " + hash);
            return got;
        }
    }

    protected static String md5(byte[] data) {
        return TestData.md5(data);
    }

    /** One index line. */
    protected record Entry(String hash, long size, long mtimeNanos) {
    }

    protected static List<Entry> index(Volume v, String prefix) throws IOException {
        ConcurrentLinkedQueue<Entry> entries = new ConcurrentLinkedQueue<>();
        v.index(prefix, (hash, size, mtime) -> entries.add(new Entry(hash, size, mtime)));
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(java.util.Comparator.comparing(Entry::hash));
        return sorted;
    }

    private static List<String> hashesIn(List<Entry> entries) {
        return entries.stream().map(Entry::hash).toList();
    }

    private static Map<String, Long> sizesIn(List<Entry> entries) {
        Map<String, Long> m = new HashMap<>();
        entries.forEach(e -> m.put(e.hash(), e.size()));
        return m;
    }

    private static Map<String, Entry> byHash(List<Entry> entries) {
        Map<String, Entry> m = new HashMap<>();
        entries.forEach(e -> m.put(e.hash(), e));
        return m;
    }

    private static byte[] filled(int size, byte value) {
        byte[] b = new byte[size];
        java.util.Arrays.fill(b, value);
        return b;
    }
}
