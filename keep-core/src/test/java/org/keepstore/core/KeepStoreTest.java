package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keepstore.core.testing.TestData.randomBytes;
import static org.keepstore.core.testing.TestData.md5;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.keepstore.core.testing.ForwardingVolume;
import org.keepstore.core.testing.MutableClock;

class KeepStoreTest {
    private static final Duration TTL = Duration.ofDays(14);
    private static final byte[] FOO = "foo".getBytes(StandardCharsets.US_ASCII);
    private static final String FOO_HASH = "acbd18db4cc2f85cedef654fccc4a4d8";

    private final MutableClock clock = new MutableClock();
    private final BufferPool pool = new BufferPool(2);
    private final List<KeepStore> stores = new ArrayList<>();

    @AfterEach
    void closeStores() throws IOException {
        for (KeepStore s : stores) {
            s.close();
        }
        assertEquals(0, pool.inUse(), "every buffer is returned");
    }

    // ---------------------------------------------------------------- helpers

    private MemoryVolume volume(Duration trashLifetime) {
        return new MemoryVolume(new VolumeContext(clock, trashLifetime, TTL, VolumeMetrics.NONE));
    }

    private MemoryVolume volume() {
        return volume(Duration.ofDays(1));
    }

    private static String uuid(int n) {
        return String.format("zzzzz-nyw5e-%015d", n);
    }

    private static Mount mount(int n, Volume v) {
        return Mount.of(uuid(n), v);
    }

    private static Mount mount(int n, Volume v, String... classes) {
        return new Mount(uuid(n), v, true, true, 1, Set.of(classes), 0);
    }

    private static Mount readOnly(int n, Volume v) {
        return new Mount(uuid(n), v, false, false, 1, Set.of("default"), 0);
    }

    private KeepStore store(boolean trashEnabled, Mount... mounts) {
        KeepStore s = new KeepStore(List.of(mounts), pool, new KeepStore.Options(clock, TTL, trashEnabled));
        stores.add(s);
        return s;
    }

    private KeepStore store(Mount... mounts) {
        return store(true, mounts);
    }

    private static WriteResult put(KeepStore s, byte[] data, String... classes) throws Exception {
        return s.write(md5(data), new ByteArrayInputStream(data), data.length, Set.of(classes));
    }

    private static byte[] get(KeepStore s, String hash) throws Exception {
        CapturingSink sink = new CapturingSink();
        long n = s.read(hash, sink);
        assertEquals(n, sink.bytes.size());
        assertEquals(n, sink.begunWith);
        return sink.bytes.toByteArray();
    }

    /** Puts a corrupt copy of FOO on the mount read first and a good one on the second. */
    private static List<MemoryVolume> corruptFirstGoodSecond(KeepStore s) {
        List<MemoryVolume> order = inOrder(s, FOO_HASH);
        order.get(0).putRaw(FOO_HASH, "fox".getBytes(StandardCharsets.US_ASCII));
        order.get(1).putRaw(FOO_HASH, FOO);
        return order;
    }

    private static int status(Executable call) {
        return assertThrows(KeepException.class, call).status();
    }

    /** Records what a read delivered. */
    static class CapturingSink implements BlockSink {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long begunWith = -1;
        int chunks;

        @Override
        public void begin(long size) {
            assertEquals(-1, begunWith, "begin is called once");
            begunWith = size;
        }

        @Override
        public void write(ByteBuffer chunk) {
            assertTrue(begunWith >= 0, "begin comes before the first chunk");
            chunks++;
            byte[] b = new byte[chunk.remaining()];
            chunk.get(b);
            bytes.write(b, 0, b.length);
        }
    }

    /** The mounts' volumes in the store's rendezvous order for a hash. */
    private static List<MemoryVolume> inOrder(KeepStore s, String hash) {
        List<MemoryVolume> vs = new ArrayList<>();
        for (Mount m : s.rendezvousOrder(hash)) {
            vs.add((MemoryVolume) m.volume());
        }
        return vs;
    }

    // ---------------------------------------------------------------- rendezvous

    @Test
    void rendezvousOrderMatchesAnIndependentComputation() throws Exception {
        List<Mount> mounts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            mounts.add(new Mount(uuid(i * 7919), volume(), true, true, 1, Set.of("default"), i % 2 == 0 ? 0 : 5));
        }
        mounts.add(new Mount("not-an-arvados-uuid", volume(), true, true, 1, Set.of("default"), 0));
        mounts.add(new Mount("zzzzz-nyw5e-shortuuid", volume(), true, true, 1, Set.of("default"), 5));
        KeepStore s = store(mounts.toArray(new Mount[0]));
        Random random = new Random(42);
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        for (int round = 0; round < 300; round++) {
            String hash = md5(randomBytes(16, random.nextLong()));
            // Independent: key "(9 - priority)|md5hex(hash+suffix)" sorted as text.
            TreeMap<String, String> expected = new TreeMap<>();
            for (Mount m : mounts) {
                String u = m.uuid();
                String suffix = u.length() == 27 ? u.substring(12) : u;
                byte[] d = md5.digest((hash + suffix).getBytes(StandardCharsets.US_ASCII));
                StringBuilder hex = new StringBuilder();
                for (byte b : d) {
                    hex.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
                }
                expected.put((9 - m.priority()) + "|" + hex, u);
            }
            List<String> actual = s.rendezvousOrder(hash).stream().map(Mount::uuid).toList();
            assertEquals(new ArrayList<>(expected.values()), actual, hash);
        }
    }

    // ---------------------------------------------------------------- write

    @Test
    void writeThenReadSmallEmptyAndMultiChunkBlocks() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        for (byte[] data : List.of(FOO, new byte[0], randomBytes(3 * CopyReader.READ_CHUNK + 12345, 1))) {
            WriteResult r = put(s, data);
            assertEquals(Locator.of(md5(data), data.length), r.locator());
            assertEquals(1, r.replicas());
            assertEquals(Map.of("default", 1), r.classesConfirmed());
            assertArrayEquals(data, get(s, md5(data)));
            assertEquals(data.length, s.verify(md5(data)));
        }
    }

    @Test
    void writeGoesToTheFirstMountInRendezvousOrder() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()), mount(3, volume()));
        List<MemoryVolume> order = inOrder(s, FOO_HASH);
        put(s, FOO);
        assertTrue(order.get(0).contains(FOO_HASH));
        assertFalse(order.get(1).contains(FOO_HASH));
        assertFalse(order.get(2).contains(FOO_HASH));
    }

    @Test
    void writeRejectsBadBodies() {
        KeepStore s = store(mount(1, volume()));
        MemoryVolume v = (MemoryVolume) s.mounts().get(0).volume();
        assertEquals(400, status(() -> s.write(md5(FOO), new ByteArrayInputStream("bar".getBytes()), 3, Set.of())));
        assertEquals(400, status(() -> s.write(FOO_HASH, new ByteArrayInputStream(FOO), 4, Set.of())), "short body");
        assertEquals(400, status(() -> s.write(FOO_HASH, new ByteArrayInputStream("foox".getBytes()), 3, Set.of())),
                "long body");
        assertEquals(400, status(() -> s.write("ACBD18DB4CC2F85CEDEF654FCCC4A4D8", new ByteArrayInputStream(FOO), 3, Set.of())));
        assertEquals(400, status(() -> s.write(FOO_HASH, ByteBuffer.wrap("bar".getBytes()), Set.of(), null)));
        assertFalse(v.contains(FOO_HASH));
    }

    @Test
    void chunkedBodyWithoutDeclaredLength() throws Exception {
        KeepStore s = store(mount(1, volume()));
        WriteResult r = s.write(FOO_HASH, new ByteArrayInputStream(FOO), -1, Set.of());
        assertEquals(3, r.locator().size());
    }

    @Test
    void chunkedBodiesOfEverySizeAroundTheSmallLimitRoundTrip() throws Exception {
        KeepStore s = store(mount(1, volume()));
        int small = KeepStore.SMALL_BLOCK;
        for (int size : new int[] {0, 1, small - 1, small, small + 1, small + 2, 3 << 20, (3 << 20) + 12345}) {
            byte[] data = randomBytes(size, size);
            String hash = md5(data);
            // A stream that gives a few bytes at a time, as a chunked request body does.
            InputStream trickle = new FilterInputStream(new ByteArrayInputStream(data)) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return super.read(b, off, Math.min(len, 1000));
                }
            };
            assertEquals(size, s.write(hash, trickle, -1, Set.of()).locator().size(), "size " + size);
            assertArrayEquals(data, get(s, hash), "size " + size);
            assertEquals(0, pool.inUse());
        }
        byte[] wrong = randomBytes(small + 1, 99);
        assertEquals(400, status(() -> s.write(FOO_HASH, new ByteArrayInputStream(wrong), -1, Set.of())));
        assertEquals(400, status(() -> s.write(FOO_HASH, new ByteArrayInputStream(wrong, 0, 10), -1, Set.of())));
    }

    @Test
    void aSmallChunkedBodyTakesNoPoolBuffer() throws Exception {
        int[] buffersTakenDuringWrite = {-1};
        Volume watching = new ForwardingVolume(volume()) {
            @Override
            public void write(String hash, ByteBuffer data) throws IOException {
                buffersTakenDuringWrite[0] = pool.inUse();
                super.write(hash, data);
            }
        };
        KeepStore s = store(mount(1, watching));
        byte[] data = randomBytes(KeepStore.SMALL_BLOCK, 5);
        assertEquals(data.length, s.write(md5(data), new ByteArrayInputStream(data), -1, Set.of()).locator().size());
        assertEquals(0, buffersTakenDuringWrite[0], "a small block never waits for a 64 MiB buffer");
        assertEquals(0, pool.bytesAllocated());
    }

    @Test
    void largestBlockIsAccepted() throws Exception {
        KeepStore s = store(mount(1, volume()));
        byte[] data = randomBytes(Locator.MAX_BLOCK_SIZE, 7);
        String hash = md5(data);
        assertEquals(Locator.MAX_BLOCK_SIZE, s.write(hash, new ByteArrayInputStream(data), -1, Set.of()).locator().size());
        assertEquals(Locator.MAX_BLOCK_SIZE, s.verify(hash));
    }

    /** Produces {@code length} zero bytes, counting how many were read. */
    static final class CountingZeros extends InputStream {
        final long length;
        long served;

        CountingZeros(long length) {
            this.length = length;
        }

        @Override
        public int read() {
            if (served >= length) {
                return -1;
            }
            served++;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (served >= length) {
                return -1;
            }
            int n = (int) Math.min(len, Math.min(length - served, 1 << 20));
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            served += n;
            return n;
        }
    }

    @Test
    void oneByteOverTheLimitIsRejectedWithoutReadingFurther() {
        KeepStore s = store(mount(1, volume()));
        CountingZeros body = new CountingZeros(Locator.MAX_BLOCK_SIZE + 10_000_000L);
        assertEquals(413, status(() -> s.write(FOO_HASH, body, -1, Set.of())));
        assertEquals(Locator.MAX_BLOCK_SIZE + 1L, body.served);

        CountingZeros declared = new CountingZeros(Locator.MAX_BLOCK_SIZE + 1L);
        assertEquals(413, status(() -> s.write(FOO_HASH, declared, Locator.MAX_BLOCK_SIZE + 1L, Set.of())));
        assertEquals(0, declared.served, "a declared length over the limit is refused before reading");
    }

    @Test
    void identicalExistingCopyIsTouchedNotRewritten() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        MemoryVolume first = inOrder(s, FOO_HASH).get(0);
        put(s, FOO);
        clock.advance(Duration.ofHours(1));
        WriteResult r = put(s, FOO);
        assertEquals(1, r.replicas());
        assertEquals(clock.nanos(), first.mtimeNanos(FOO_HASH));
        assertFalse(inOrder(s, FOO_HASH).get(1).contains(FOO_HASH));
    }

    @Test
    void existingCopyOnALaterMountCountsAndIsTouched() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        List<MemoryVolume> order = inOrder(s, FOO_HASH);
        order.get(1).putRaw(FOO_HASH, FOO, 5);
        WriteResult r = put(s, FOO);
        assertEquals(1, r.replicas());
        assertEquals(clock.nanos(), order.get(1).mtimeNanos(FOO_HASH));
        assertFalse(order.get(0).contains(FOO_HASH), "no second copy was needed");
    }

    @Test
    void collisionWritesNowhere() throws Exception {
        // Two different 128-byte messages with the same MD5 (Wang and Yu, 2004).
        byte[] a = HexFormat.of().parseHex("d131dd02c5e6eec4693d9a0698aff95c2fcab58712467eab4004583eb8fb7f89"
                + "55ad340609f4b30283e488832571415a085125e8f7cdc99fd91dbdf280373c5b"
                + "d8823e3156348f5bae6dacd436c919c6dd53e2b487da03fd02396306d248cda0"
                + "e99f33420f577ee8ce54b67080a80d1ec69821bcb6a8839396f9652b6ff72a70");
        byte[] b = HexFormat.of().parseHex("d131dd02c5e6eec4693d9a0698aff95c2fcab50712467eab4004583eb8fb7f89"
                + "55ad340609f4b30283e4888325f1415a085125e8f7cdc99fd91dbd7280373c5b"
                + "d8823e3156348f5bae6dacd436c919c6dd53e23487da03fd02396306d248cda0"
                + "e99f33420f577ee8ce54b67080280d1ec69821bcb6a8839396f965ab6ff72a70");
        String hash = md5(a);
        assertEquals(hash, md5(b));
        assertFalse(java.util.Arrays.equals(a, b));

        // The colliding copy sits on the second mount in order: the first mount is checked and
        // found empty, then the collision on the second must stop the write everywhere.
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1, "default"), mount(2, v2, "default"));
        List<MemoryVolume> order = inOrder(s, hash);
        order.get(1).putRaw(hash, a);
        assertEquals(500, status(() -> put(s, b)));
        assertThrows(CollisionException.class, () -> put(s, b));
        assertFalse(order.get(0).contains(hash), "nothing written on the other mount");
        assertArrayEquals(a, order.get(1).get(hash), "the stored block is untouched");
    }

    @Test
    void corruptExistingCopyIsOverwritten() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        MemoryVolume first = inOrder(s, FOO_HASH).get(0);
        first.putRaw(FOO_HASH, "fox".getBytes(StandardCharsets.US_ASCII));
        WriteResult r = put(s, FOO);
        assertEquals(1, r.replicas());
        assertArrayEquals(FOO, first.get(FOO_HASH));
    }

    @Test
    void largeExistingCopiesAreComparedWhole() throws Exception {
        byte[] data = randomBytes(3 * CopyReader.READ_CHUNK + 5, 21);
        String hash = md5(data);
        byte[] differsLate = data.clone();
        differsLate[300 * 1024] ^= 1;
        byte[] longer = java.util.Arrays.copyOf(data, data.length + 1);
        for (byte[] stored : List.of(differsLate, java.util.Arrays.copyOf(data, 2 * CopyReader.READ_CHUNK), longer)) {
            KeepStore s = store(mount(1, volume()));
            MemoryVolume v = inOrder(s, hash).get(0);
            v.putRaw(hash, stored);
            assertEquals(1, s.write(hash, ByteBuffer.wrap(data), Set.of(), null).replicas());
            assertArrayEquals(data, v.get(hash), "a corrupt copy (" + stored.length + " bytes) is overwritten");
        }
        // An identical copy is only touched.
        KeepStore s = store(mount(1, volume()));
        MemoryVolume v = inOrder(s, hash).get(0);
        v.putRaw(hash, data, 5);
        assertEquals(1, s.write(hash, ByteBuffer.wrap(data), Set.of(), null).replicas());
        assertEquals(clock.nanos(), v.mtimeNanos(hash));
        assertArrayEquals(data, v.get(hash));
    }

    @Test
    void corruptCopyIsRepairedEvenWhenAGoodOneExistsElsewhere() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        List<MemoryVolume> order = corruptFirstGoodSecond(s);
        WriteResult r = put(s, FOO);
        assertEquals(2, r.replicas(), "the good copy and the repaired one");
        assertArrayEquals(FOO, order.get(0).get(FOO_HASH));
    }

    // ---------------------------------------------------------------- storage classes and failures

    @Test
    void storageClassesChooseMountsAndAreCounted() throws Exception {
        MemoryVolume plain = volume();
        MemoryVolume archive = volume();
        MemoryVolume both = volume();
        KeepStore s = store(mount(1, plain, "default"),
                new Mount(uuid(2), archive, true, true, 2, Set.of("archive"), 0),
                mount(3, both, "default", "archive"));
        byte[] data = randomBytes(1000, 3);
        String hash = md5(data);

        WriteResult r = put(s, data, "archive");
        // Exactly one archive mount is needed; the first archive mount in rendezvous order.
        List<Mount> archiveOrder = s.rendezvousOrder(hash).stream()
                .filter(m -> m.storageClasses().contains("archive")).toList();
        Mount chosen = archiveOrder.get(0);
        assertTrue(((MemoryVolume) chosen.volume()).contains(hash));
        assertFalse(plain.contains(hash), "a mount without the class is never written");
        assertEquals(chosen.replication(), r.replicas());
        assertEquals(chosen.replication(), r.classesConfirmed().get("archive"));
        assertTrue(r.classesConfirmed().containsKey("archive"));
        assertTrue(r.replicas() >= 1);
    }

    private KeepStore storeWithDefaults(Set<String> defaults, Mount... mounts) {
        KeepStore s = new KeepStore(List.of(mounts), pool, new KeepStore.Options(clock, TTL, true, defaults));
        stores.add(s);
        return s;
    }

    @Test
    void writeNamingNoClassTargetsTheDefaultClasses() throws Exception {
        // The archive mount has the higher priority, so it comes first in rendezvous order for
        // every hash: without default classes an unclassified write would land there.
        MemoryVolume standard = volume();
        MemoryVolume archive = volume();
        KeepStore s = storeWithDefaults(Set.of("default"), mount(1, standard, "default"),
                new Mount(uuid(2), archive, true, true, 1, Set.of("archive"), 10));
        for (int i = 0; i < 20; i++) {
            byte[] data = randomBytes(100, 100 + i);
            WriteResult r = put(s, data);
            assertTrue(standard.contains(md5(data)));
            assertFalse(archive.contains(md5(data)), "only the default class is written");
            assertEquals(Map.of("default", 1), r.classesConfirmed());
        }
        // Naming a class still overrides the defaults.
        byte[] data = randomBytes(100, 99);
        assertEquals(Map.of("archive", 1), put(s, data, "archive").classesConfirmed());
        assertFalse(standard.contains(md5(data)));

        // The same via the in-memory entry point; a named mount takes the block whatever its class.
        byte[] pulled = randomBytes(100, 98);
        s.write(md5(pulled), java.nio.ByteBuffer.wrap(pulled), Set.of(), null);
        assertTrue(standard.contains(md5(pulled)));
        s.write(md5(pulled), java.nio.ByteBuffer.wrap(pulled), Set.of(), uuid(2));
        assertTrue(archive.contains(md5(pulled)));
    }

    @Test
    void everyDefaultClassGetsACopy() throws Exception {
        MemoryVolume a = volume();
        MemoryVolume b = volume();
        MemoryVolume other = volume();
        KeepStore s = storeWithDefaults(Set.of("a", "b"), mount(1, a, "a"), mount(2, b, "b"),
                mount(3, other, "other"));
        WriteResult r = put(s, FOO);
        assertTrue(a.contains(FOO_HASH));
        assertTrue(b.contains(FOO_HASH));
        assertFalse(other.contains(FOO_HASH));
        assertEquals(Map.of("a", 1, "b", 1), r.classesConfirmed());
    }

    @Test
    void defaultClassesNoWritableMountOffersAreLeftOut() throws Exception {
        // "gone" is offered only by a read-only mount: an unclassified write must still succeed,
        // satisfying the default classes that are offered...
        MemoryVolume standard = volume();
        KeepStore s = storeWithDefaults(Set.of("default", "gone"), mount(1, standard, "default"),
                new Mount(uuid(2), volume(), false, false, 1, Set.of("gone"), 0));
        assertEquals(Map.of("default", 1), put(s, FOO).classesConfirmed());
        // ...and when none is offered, it goes to any writable mount rather than failing.
        MemoryVolume archive = volume();
        KeepStore none = storeWithDefaults(Set.of("gone"), mount(3, archive, "archive"));
        assertEquals(Map.of("archive", 1), put(none, FOO).classesConfirmed());
        assertTrue(archive.contains(FOO_HASH));
        // Naming the missing class explicitly is still refused.
        assertEquals(507, status(() -> put(none, FOO, "gone")));
    }

    @Test
    void severalClassesAreWrittenInParallelUntilAllAreSatisfied() throws Exception {
        MemoryVolume hot = volume();
        MemoryVolume cold = volume();
        KeepStore s = store(mount(1, hot, "hot"), new Mount(uuid(2), cold, true, true, 3, Set.of("cold"), 0));
        WriteResult r = put(s, FOO, "hot", "cold");
        assertTrue(hot.contains(FOO_HASH));
        assertTrue(cold.contains(FOO_HASH));
        assertEquals(4, r.replicas());
        assertEquals(Map.of("hot", 1, "cold", 3), r.classesConfirmed());
    }

    @Test
    void failedMountIsReplacedByTheNextOneOfTheSameClass() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1, "archive"), mount(2, v2, "archive"));
        inOrder(s, FOO_HASH).get(0).failWith(new IOException("broken"));
        WriteResult r = put(s, FOO, "archive");
        assertEquals(Map.of("archive", 1), r.classesConfirmed());
        assertTrue(inOrder(s, FOO_HASH).get(1).contains(FOO_HASH));
    }

    @Test
    void unknownStorageClassIs507AndWritesNothing() {
        MemoryVolume v = volume();
        KeepStore s = store(mount(1, v, "default"),
                new Mount(uuid(2), volume(), false, false, 1, Set.of("readonly-class"), 0));
        assertEquals(507, status(() -> put(s, FOO, "nonexistent")));
        assertEquals(507, status(() -> put(s, FOO, "readonly-class")), "offered only by a read-only mount");
        assertEquals(507, status(() -> put(s, FOO, "default", "nonexistent")));
        assertFalse(v.contains(FOO_HASH));
        CountingZeros body = new CountingZeros(1000);
        assertEquals(507, status(() -> s.write(FOO_HASH, body, 1000, Set.of("nonexistent"))));
        assertEquals(0, body.served, "refused before reading the body");
    }

    @Test
    void allFullIs507() {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        v1.setCapacity(0);
        v2.setCapacity(0);
        KeepStore s = store(mount(1, v1), mount(2, v2));
        assertEquals(507, status(() -> put(s, FOO)));
    }

    @Test
    void fullMountIsSkipped() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        inOrder(s, FOO_HASH).get(0).setCapacity(0);
        assertEquals(1, put(s, FOO).replicas());
        assertTrue(inOrder(s, FOO_HASH).get(1).contains(FOO_HASH));
    }

    @Test
    void otherFailuresAre503() {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        v1.setCapacity(0);
        v2.failWith(new IOException("disk on fire"));
        KeepStore s = store(mount(1, v1), mount(2, v2));
        assertEquals(503, status(() -> put(s, FOO)));
    }

    @Test
    void noWritableMountIs507() {
        MemoryVolume v = volume();
        KeepStore s = store(readOnly(1, v));
        assertEquals(507, status(() -> put(s, FOO)));
        assertFalse(v.contains(FOO_HASH));
        KeepStore none = store();
        assertEquals(507, status(() -> put(none, FOO)));
    }

    @Test
    void readOnlyMountsAreNeverWrittenOrTrashed() throws Exception {
        MemoryVolume ro = volume();
        MemoryVolume rw = volume();
        ro.putRaw(FOO_HASH, FOO, 0);
        KeepStore s = store(readOnly(1, ro), mount(2, rw));
        // The read-only copy does not count as a replica for writes: writes need writable mounts.
        WriteResult r = put(s, FOO);
        assertEquals(1, r.replicas());
        assertTrue(rw.contains(FOO_HASH));
        assertEquals(0, ro.mtimeNanos(FOO_HASH), "the read-only copy was not touched");

        clock.advance(TTL.plusDays(1));
        s.trash(FOO_HASH);
        assertTrue(ro.contains(FOO_HASH), "read-only copy not trashed");
        assertFalse(rw.contains(FOO_HASH));
        assertEquals(0, s.trash(FOO_HASH, 0, null));
        assertTrue(ro.contains(FOO_HASH));
    }

    @Test
    void writeToANamedMount() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        Mount target = s.rendezvousOrder(FOO_HASH).get(1);
        s.write(FOO_HASH, ByteBuffer.wrap(FOO), Set.of(), target.uuid());
        assertTrue(((MemoryVolume) target.volume()).contains(FOO_HASH));
        assertFalse(((MemoryVolume) s.rendezvousOrder(FOO_HASH).get(0).volume()).contains(FOO_HASH));
        assertEquals(404, status(() -> s.write(FOO_HASH, ByteBuffer.wrap(FOO), Set.of(), uuid(99))));
    }

    // ---------------------------------------------------------------- read

    @Test
    void corruptFirstCopyIsSkippedAndTheGoodOneServed() throws Exception {
        // Blocks of up to one chunk are verified before any byte goes out. (A larger corrupt
        // copy is only detected after its first chunks were sent: see the multi-chunk test.)
        for (byte[] data : List.of(FOO, randomBytes(CopyReader.READ_CHUNK, 5))) {
            String hash = md5(data);
            KeepStore s = store(mount(1, volume()), mount(2, volume()));
            List<MemoryVolume> order = inOrder(s, hash);
            order.get(0).putRaw(hash, data);
            order.get(0).corrupt(hash);
            order.get(1).putRaw(hash, data);
            assertArrayEquals(data, get(s, hash));
            assertEquals(data.length, s.verify(hash));
        }
    }

    @Test
    void truncatedCopyCountsAsCorrupt() throws Exception {
        MemoryVolume v = volume();
        KeepStore s = store(mount(1, v));
        v.putRaw(FOO_HASH, "fo".getBytes(StandardCharsets.US_ASCII));
        assertEquals(502, status(() -> get(s, FOO_HASH)));
    }

    @Test
    void onlyCorruptCopiesIs502BeforeAnyByteForSmallBlocks() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        v1.putRaw(FOO_HASH, FOO);
        v1.corrupt(FOO_HASH);
        v2.putRaw(FOO_HASH, FOO);
        v2.corrupt(FOO_HASH);
        CapturingSink sink = new CapturingSink();
        KeepException e = assertThrows(KeepException.class, () -> s.read(FOO_HASH, sink));
        assertEquals(502, e.status());
        assertEquals(-1, sink.begunWith, "nothing was delivered");
        assertEquals(502, status(() -> s.verify(FOO_HASH)));
    }

    @Test
    void corruptMultiChunkBlockIsCutShortAndNeverDeliveredWhole() throws Exception {
        byte[] data = randomBytes(3 * CopyReader.READ_CHUNK, 9);
        String hash = md5(data);
        MemoryVolume v = volume();
        KeepStore s = store(mount(1, v));
        byte[] bad = data.clone();
        bad[bad.length - 1] ^= 1; // corruption in the last chunk
        v.putRaw(hash, bad);
        CapturingSink sink = new CapturingSink();
        assertThrows(ChecksumException.class, () -> s.read(hash, sink));
        assertEquals(data.length, sink.begunWith);
        assertEquals(data.length - CopyReader.HELD_BACK, sink.bytes.size(), "all but the held-back end went out");
        assertEquals(502, status(() -> s.verify(hash)));
    }

    @Test
    void aCopyOfAnotherSizeThanTheHintIsCheckedBeforeAnyByteGoesOut() throws Exception {
        // A large corrupt copy of the wrong length on the first mount: with the locator's size
        // known, it is skipped for the good copy instead of being sent in part.
        byte[] data = randomBytes(3 * CopyReader.READ_CHUNK, 23);
        String hash = md5(data);
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        List<MemoryVolume> order = inOrder(s, hash);
        order.get(0).putRaw(hash, Arrays.copyOf(data, data.length + 10));
        order.get(1).putRaw(hash, data);
        CapturingSink sink = new CapturingSink();
        assertEquals(data.length, s.read(hash, data.length, sink));
        assertEquals(data.length, sink.begunWith);
        assertArrayEquals(data, sink.bytes.toByteArray());

        // A wrong hint for a good copy: the copy is verified, then served with its real size.
        KeepStore single = store(mount(3, volume()));
        put(single, data);
        CapturingSink wrongHint = new CapturingSink();
        assertEquals(data.length, single.read(hash, 12345, wrongHint));
        assertArrayEquals(data, wrongHint.bytes.toByteArray());
    }

    @Test
    void afterACutShortReadTheRetryIsServedFromAGoodCopy() throws Exception {
        byte[] data = randomBytes(2 * CopyReader.READ_CHUNK + 7, 17);
        String hash = md5(data);
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        List<MemoryVolume> order = inOrder(s, hash);
        order.get(0).putRaw(hash, data);
        order.get(0).corrupt(hash);
        order.get(1).putRaw(hash, data);
        assertThrows(ChecksumException.class, () -> s.read(hash, new CapturingSink()));
        assertArrayEquals(data, get(s, hash), "the known-corrupt mount is tried last");
        // A write repairs the corrupt copy and the mount is back in its place.
        put(s, data);
        assertArrayEquals(data, order.get(0).get(hash));
    }

    @Test
    void notFoundIs404() {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        assertEquals(404, status(() -> get(s, FOO_HASH)));
        assertEquals(404, status(() -> s.verify(FOO_HASH)));
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {1000, 3 << 20})
    void aCopyIsClosedOnceReadNotOnceTheClientHasItAll(int size) throws Exception {
        // A serialized volume has one I/O slot, held while a copy is open: a slow client must
        // not keep it. This sink takes nothing until the copy it is fed from is closed.
        AtomicReference<CountDownLatch> lastCopyClosed = new AtomicReference<>();
        Volume volume = new ForwardingVolume(volume()) {
            @Override
            public StoredBlock open(String hash) throws IOException {
                StoredBlock block = super.open(hash);
                CountDownLatch closed = new CountDownLatch(1);
                lastCopyClosed.set(closed);
                return new StoredBlock(block.size(), new FilterInputStream(block.stream()) {
                    @Override
                    public void close() throws IOException {
                        super.close();
                        closed.countDown();
                    }
                });
            }
        };
        KeepStore s = store(mount(1, volume));
        byte[] data = randomBytes(size, 7);
        put(s, data);
        CapturingSink slowClient = new CapturingSink() {
            @Override
            public void write(ByteBuffer chunk) {
                try {
                    assertTrue(lastCopyClosed.get().await(60, TimeUnit.SECONDS), "the copy stayed open for the client");
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                super.write(chunk);
            }
        };

        assertEquals(size, s.read(md5(data), slowClient));
        assertArrayEquals(data, slowClient.bytes.toByteArray());
    }

    @Test
    void readErrorAndNotFoundElsewhereGivesTheErrorsStatus() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        v1.failWith(new IOException("disk on fire"));
        assertEquals(500, status(() -> get(s, FOO_HASH)));
        v1.failWith(KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, null));
        assertEquals(503, status(() -> get(s, FOO_HASH)));
        assertEquals(503, status(() -> s.verify(FOO_HASH)));
        // ... but a good copy elsewhere is served.
        v2.putRaw(FOO_HASH, FOO);
        assertArrayEquals(FOO, get(s, FOO_HASH));
    }

    /** Fails after {@code goodBytes} bytes. */
    static final class FailingVolume extends ForwardingVolume {
        final int goodBytes;

        FailingVolume(MemoryVolume inner, int goodBytes) {
            super(inner);
            this.goodBytes = goodBytes;
        }

        @Override
        public StoredBlock open(String hash) throws IOException {
            StoredBlock b = inner.open(hash);
            InputStream failing = new java.io.FilterInputStream(b.stream()) {
                int served;

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    if (served >= goodBytes) {
                        throw new IOException("medium error");
                    }
                    int n = super.read(buf, off, Math.min(len, goodBytes - served));
                    served += Math.max(n, 0);
                    return n;
                }
            };
            return new StoredBlock(b.size(), failing);
        }
    }

    @Test
    void readErrorBeforeDeliveryFailsOverAfterDeliveryCutsShort() throws Exception {
        byte[] data = randomBytes(CopyReader.SEND_STEP + 2 * CopyReader.READ_CHUNK, 11);
        String hash = md5(data);
        MemoryVolume good = volume();
        good.putRaw(hash, data);

        // Fails within the first chunk: nothing delivered yet, so the next mount serves it.
        MemoryVolume early = volume();
        early.putRaw(hash, data);
        KeepStore s1 = store(new Mount(uuid(1), new FailingVolume(early, CopyReader.READ_CHUNK / 2), true, true, 1,
                Set.of("default"), 1), mount(2, good));
        assertArrayEquals(data, get(s1, hash));

        // Fails after the first bytes were handed to the client: the read fails and the
        // response is cut short.
        MemoryVolume late = volume();
        late.putRaw(hash, data);
        int failAt = CopyReader.SEND_STEP + CopyReader.READ_CHUNK + 10;
        KeepStore s2 = store(new Mount(uuid(3), new FailingVolume(late, failAt), true, true, 1, Set.of("default"), 1),
                mount(4, good));
        CapturingSink sink = new CapturingSink();
        assertEquals(500, status(() -> s2.read(hash, sink)));
        byte[] delivered = sink.bytes.toByteArray();
        assertTrue(delivered.length > 0 && delivered.length <= failAt, "a prefix went out");
        assertArrayEquals(java.util.Arrays.copyOf(data, delivered.length), delivered);
        // A disk with a bad region fails at the same place every time: the mount now goes last,
        // as after a corrupt copy, so the client's retry is served from the good one.
        assertArrayEquals(data, get(s2, hash));
    }

    @Test
    void sinkFailuresArePassedOnWithoutFailover() {
        byte[] data = randomBytes(2 * CopyReader.READ_CHUNK, 13);
        String hash = md5(data);
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        v1.putRaw(hash, data);
        v2.putRaw(hash, data);
        KeepStore s = store(mount(1, v1), mount(2, v2));
        IOException clientGone = new IOException("broken pipe");
        int[] writes = {0};
        BlockSink sink = new BlockSink() {
            @Override
            public void begin(long size) {
            }

            @Override
            public void write(ByteBuffer chunk) throws IOException {
                writes[0]++;
                throw clientGone;
            }
        };
        assertSame(clientGone, assertThrows(IOException.class, () -> s.read(hash, sink)));
        assertEquals(1, writes[0], "no retry on another mount");
    }

    @Test
    void higherPriorityMountsAreReadFirst() throws Exception {
        MemoryVolume low = volume();
        MemoryVolume high = volume();
        KeepStore s = store(new Mount(uuid(1), low, true, true, 1, Set.of("default"), 0),
                new Mount(uuid(2), high, true, true, 1, Set.of("fast"), 10));
        assertSame(high, s.rendezvousOrder(FOO_HASH).get(0).volume());
        low.putRaw(FOO_HASH, FOO);
        high.putRaw(FOO_HASH, FOO);
        high.failWith(new IOException("nope"));
        assertArrayEquals(FOO, get(s, FOO_HASH));
    }

    // ---------------------------------------------------------------- touch, trash, untrash

    @Test
    void touchSetsMtimeOnTheFirstWritableHolder() throws Exception {
        MemoryVolume ro = volume();
        MemoryVolume rw = volume();
        KeepStore s = store(readOnly(1, ro), mount(2, rw));
        assertEquals(404, status(() -> s.touch(FOO_HASH)));
        ro.putRaw(FOO_HASH, FOO, 1);
        assertEquals(404, status(() -> s.touch(FOO_HASH)), "read-only copies are not touched");
        rw.putRaw(FOO_HASH, FOO, 1);
        s.touch(FOO_HASH);
        assertEquals(clock.nanos(), rw.mtimeNanos(FOO_HASH));
        assertEquals(1, ro.mtimeNanos(FOO_HASH));
    }

    @Test
    void trashDisabledIs405() {
        MemoryVolume v = volume();
        v.putRaw(FOO_HASH, FOO, 0);
        KeepStore s = store(false, mount(1, v));
        assertEquals(405, status(() -> s.trash(FOO_HASH)));
        assertTrue(v.contains(FOO_HASH));
    }

    @Test
    void trashOfAMissingBlockIs404() {
        KeepStore s = store(mount(1, volume()));
        assertEquals(404, status(() -> s.trash(FOO_HASH)));
    }

    @Test
    void trashWithinTheSignatureTtlLeavesTheBlock() throws Exception {
        MemoryVolume v = volume();
        KeepStore s = store(mount(1, v));
        put(s, FOO);
        clock.advance(TTL.minusSeconds(1));
        s.trash(FOO_HASH); // succeeds ...
        assertTrue(v.contains(FOO_HASH)); // ... but leaves it
        assertArrayEquals(FOO, get(s, FOO_HASH));
        clock.advance(Duration.ofSeconds(1));
        s.trash(FOO_HASH);
        assertFalse(v.contains(FOO_HASH));
        assertEquals(404, status(() -> get(s, FOO_HASH)));
    }

    @Test
    void trashWithZeroLifetimeDeletes() throws Exception {
        MemoryVolume v = volume(Duration.ZERO);
        KeepStore s = store(mount(1, v));
        put(s, FOO);
        clock.advance(TTL);
        s.trash(FOO_HASH);
        assertEquals(0, v.trashedCopies(FOO_HASH));
        assertEquals(404, status(() -> s.untrash(FOO_HASH)));
    }

    @Test
    void aPutArrivingWhileTheBlockIsBeingTrashedKeepsIt() throws Exception {
        // DELETE has found the copy old enough and is about to trash it when a PUT of the same
        // block arrives. In either order the PUT's acknowledged block must stay readable: a PUT
        // that touched the copy in between would otherwise see it deleted right after its 200.
        MemoryVolume inner = volume(Duration.ZERO);
        inner.putRaw(FOO_HASH, FOO, clock.nanos());
        KeepStore[] store = new KeepStore[1];
        FutureTask<WriteResult> put = new FutureTask<>(() -> put(store[0], FOO));
        Thread putter = new Thread(put, "racing-put");
        Volume racing = new ForwardingVolume(inner) {
            @Override
            public void trash(String hash) throws IOException {
                putter.start();
                // Go on once the PUT is done, or parked waiting for the trash to finish.
                while (!put.isDone() && putter.getState() != Thread.State.WAITING) {
                    Thread.onSpinWait();
                }
                super.trash(hash);
            }
        };
        store[0] = store(mount(1, racing));
        clock.advance(TTL);

        store[0].trash(FOO_HASH);

        assertEquals(1, put.get().replicas());
        assertArrayEquals(FOO, get(store[0], FOO_HASH), "the acknowledged block was trashed");
    }

    @Test
    void untrashRestoresOnWritableMounts() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        v1.putRaw(FOO_HASH, FOO, 0);
        v2.putRaw(FOO_HASH, FOO, 0);
        clock.advance(TTL);
        s.trash(FOO_HASH);
        assertEquals(404, status(() -> get(s, FOO_HASH)));
        s.untrash(FOO_HASH);
        assertTrue(v1.contains(FOO_HASH));
        assertTrue(v2.contains(FOO_HASH));
        assertArrayEquals(FOO, get(s, FOO_HASH));
        assertEquals(404, status(() -> s.untrash(FOO_HASH)), "nothing left in trash");
    }

    @Test
    void emptyTrashDeletesExpiredTrashOnTrashableMounts() throws Exception {
        MemoryVolume v = volume(Duration.ofHours(2));
        KeepStore s = store(mount(1, v));
        v.putRaw(FOO_HASH, FOO, 0);
        clock.advance(TTL);
        s.trash(FOO_HASH);
        assertEquals(new EmptyTrashResult(0, 0, 1, 3), s.emptyTrash());
        clock.advance(Duration.ofHours(2));
        assertEquals(new EmptyTrashResult(1, 3, 0, 0), s.emptyTrash());
        assertEquals(404, status(() -> s.untrash(FOO_HASH)));
    }

    @Test
    void trashListNeedsTheExactMtimeAndAnOldEnoughBlock() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        long written = clock.nanos();
        v1.putRaw(FOO_HASH, FOO, written);
        v2.putRaw(FOO_HASH, FOO, written + 1);

        assertEquals(0, s.trash(FOO_HASH, written, null), "too young");
        clock.advance(TTL);
        assertEquals(0, s.trash(FOO_HASH, written - 1, null), "no mtime matches");
        assertEquals(0, s.trash(FOO_HASH, written, uuid(2)), "restricted to a mount whose mtime differs");
        assertEquals(0, s.trash(FOO_HASH, written, uuid(99)), "unknown mount");
        assertEquals(1, s.trash(FOO_HASH, written, ""));
        assertFalse(v1.contains(FOO_HASH));
        assertTrue(v2.contains(FOO_HASH));
        assertEquals(0, s.trash(FOO_HASH, written + 1, null), "written + 1 is still within the TTL");
        clock.advance(Duration.ofNanos(1));
        assertEquals(1, s.trash(FOO_HASH, written + 1, uuid(2)));
        assertFalse(v2.contains(FOO_HASH));
    }

    @Test
    void trashListIsIgnoredWhenTrashIsDisabled() throws Exception {
        MemoryVolume v = volume();
        v.putRaw(FOO_HASH, FOO, 0);
        KeepStore s = store(false, mount(1, v));
        clock.advance(TTL);
        assertEquals(0, s.trash(FOO_HASH, 0, null));
        assertTrue(v.contains(FOO_HASH));
    }

    @Test
    void concurrentWritesAndReadsShareTheBoundedPool() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()), mount(3, volume()));
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int seed = t;
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 20; i++) {
                        byte[] data = randomBytes(1000 + i, seed * 100L + i % 5);
                        put(s, data);
                        assertArrayEquals(data, get(s, md5(data)));
                        assertTrue(pool.inUse() <= pool.maxBuffers());
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertTrue(pool.bytesAllocated() <= (long) pool.maxBuffers() * pool.bufferSize());
    }

    // ---------------------------------------------------------------- index, mounts

    @Test
    void indexStreamsEveryMountWithPrefixAndSkipsTrash() throws Exception {
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        KeepStore s = store(mount(1, v1), mount(2, v2));
        Map<String, Integer> written = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            byte[] data = randomBytes(i, i);
            String hash = md5(data);
            (i % 2 == 0 ? v1 : v2).putRaw(hash, data, i);
            written.put(hash, i);
        }
        Map<String, Long> seen = new HashMap<>();
        s.index("", (hash, size, mtime) -> {
            assertNull(seen.put(hash, size));
            assertEquals((long) written.get(hash), mtime);
        });
        assertEquals(written.size(), seen.size());

        String prefix = written.keySet().iterator().next().substring(0, 1);
        List<String> withPrefix = new ArrayList<>();
        s.index(prefix, (hash, size, mtime) -> withPrefix.add(hash));
        assertEquals(written.keySet().stream().filter(h -> h.startsWith(prefix)).count(), withPrefix.size());

        List<String> one = new ArrayList<>();
        s.index(uuid(1), "", (hash, size, mtime) -> one.add(hash));
        assertEquals(25, one.size());
        assertEquals(404, status(() -> s.index(uuid(77), "", (h, size, m) -> { })));

        clock.advance(TTL);
        String trashed = one.get(0);
        s.trash(trashed);
        List<String> after = new ArrayList<>();
        s.index("", (hash, size, mtime) -> after.add(hash));
        assertFalse(after.contains(trashed));
    }

    @Test
    void indexErrorsArePassedOn() {
        MemoryVolume v = volume();
        v.failWith(new IOException("listing failed"));
        KeepStore s = store(mount(1, v));
        assertThrows(IOException.class, () -> s.index("", (h, size, m) -> { }));
    }

    @Test
    void aSinksOwnFailureReachesTheCallerUnchanged() {
        MemoryVolume v = volume();
        byte[] data = randomBytes(10, 1);
        v.putRaw(md5(data), data, 1);
        IllegalStateException mine = new IllegalStateException("caller's bug");
        KeepStore plain = store(mount(1, v));
        assertSame(mine, assertThrows(IllegalStateException.class, () -> plain.index("", (h, size, m) -> {
            throw mine;
        })));
        // A volume that wraps whatever its listing meets, as a cloud volume's error mapping may.
        Volume wrapping = new ForwardingVolume(v) {
            @Override
            public void index(String prefix, IndexSink sink) throws IOException {
                try {
                    super.index(prefix, sink);
                } catch (RuntimeException e) {
                    throw new IOException("listing failed", e);
                }
            }
        };
        KeepStore wrapped = store(mount(2, wrapping));
        assertSame(mine, assertThrows(IllegalStateException.class, () -> wrapped.index("", (h, size, m) -> {
            throw mine;
        })));
        IOException gone = new IOException("client went away");
        assertSame(gone, assertThrows(IOException.class, () -> wrapped.index(uuid(2), "", (h, size, m) -> {
            throw gone;
        })));
        assertThrows(NullPointerException.class, () -> plain.index("", null));
    }

    @Test
    void mountLookup() {
        Mount m = mount(1, volume());
        KeepStore s = store(m);
        assertSame(m, s.mount(uuid(1)));
        assertNull(s.mount(uuid(2)));
        assertEquals(List.of(m), s.mounts());
        assertThrows(IllegalArgumentException.class,
                () -> new KeepStore(List.of(m, m), pool, KeepStore.Options.defaults()));
        IllegalArgumentException shared = assertThrows(IllegalArgumentException.class,
                () -> new KeepStore(List.of(m, mount(2, m.volume())), pool, KeepStore.Options.defaults()));
        assertTrue(shared.getMessage().contains("share one volume"), shared.getMessage());
    }

    @Test
    void everyCallAfterCloseFailsTheSameWay() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        byte[] data = randomBytes(3 << 20, 11);
        String hash = md5(data);
        put(s, data);
        s.close();
        List<Executable> calls = List.of(
                () -> put(s, data),
                () -> s.write(hash, ByteBuffer.wrap(data), Set.of(), null),
                () -> get(s, hash),
                () -> s.verify(hash),
                () -> s.readIfAtHand(hash, data.length),
                () -> s.touch(hash),
                () -> s.trash(hash),
                () -> s.trash(hash, 1L, null),
                () -> s.untrash(hash),
                () -> s.index("", (h, size, m) -> { }),
                () -> s.index(uuid(1), "", (h, size, m) -> { }),
                s::emptyTrash);
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("KeepStore is closed", e.getMessage());
        }
        assertEquals(0, pool.inUse());
    }

    @Test
    void aLargeReadInProgressWhenTheStoreClosesEndsAndGivesItsBufferBack() throws Exception {
        // Its sending helper is started after close() shut the engine's threads down: it must
        // still run, or the read waits for it forever, holding a pool buffer.
        byte[] data = randomBytes(3 * CopyReader.SEND_STEP, 31);
        String hash = md5(data);
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        MemoryVolume inner = volume();
        inner.putRaw(hash, data);
        Volume slow = new ForwardingVolume(inner) {
            @Override
            public StoredBlock open(String h) throws IOException {
                StoredBlock b = super.open(h);
                return new StoredBlock(b.size(), new FilterInputStream(b.stream()) {
                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                        reading.countDown(); // the read-ahead helper runs
                        try {
                            closed.await(); // the first bytes come only once close() ran
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                        return super.read(buf, off, len);
                    }
                });
            }
        };
        KeepStore s = store(mount(1, slow));
        FutureTask<Object> read = new FutureTask<>(() -> s.read(hash, new CapturingSink()));
        Thread reader = new Thread(read, "reader");
        reader.setDaemon(true); // if it hangs, the test fails and the JVM still exits
        reader.start();
        assertTrue(reading.await(60, TimeUnit.SECONDS));
        s.close();
        closed.countDown();
        reader.join(60_000);
        assertFalse(reader.isAlive(), "the read ended");
        assertTrue(read.isDone());
        assertEquals(0, pool.inUse(), "its buffer is back in the pool");
    }

    // ---------------------------------------------------------------- reads without waiting

    @Test
    void aReadInterruptedWhileAVolumeWaitsIsAnInterruptNotAVolumeFailure() throws Exception {
        AtomicInteger opened = new AtomicInteger();
        // As a serialized directory volume does when its caller is interrupted waiting for its turn.
        java.util.function.Function<MemoryVolume, Volume> interrupting = inner -> new ForwardingVolume(inner) {
            @Override
            public StoredBlock open(String hash) throws IOException {
                opened.incrementAndGet();
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for serialized I/O");
            }
        };
        MemoryVolume v1 = volume();
        MemoryVolume v2 = volume();
        v1.putRaw(FOO_HASH, FOO);
        v2.putRaw(FOO_HASH, FOO);
        KeepStore s = store(mount(1, interrupting.apply(v1)), mount(2, interrupting.apply(v2)));
        InterruptedException e = assertThrows(InterruptedException.class, () -> get(s, FOO_HASH));
        assertTrue(e.getCause() instanceof java.io.InterruptedIOException);
        assertEquals(1, opened.get(), "no other mount is tried for a caller that was interrupted");
        assertFalse(Thread.currentThread().isInterrupted(), "the interrupt is reported once, by the exception");
        assertThrows(InterruptedException.class, () -> s.verify(FOO_HASH));

        // A volume's own timeout (an InterruptedIOException too) is a failure of that mount.
        opened.set(0);
        Volume timingOut = new ForwardingVolume(volume()) {
            @Override
            public StoredBlock open(String hash) throws IOException {
                opened.incrementAndGet();
                throw new java.net.SocketTimeoutException("backend timed out");
            }
        };
        MemoryVolume good = volume();
        good.putRaw(FOO_HASH, FOO);
        KeepStore t = store(mount(3, timingOut), mount(4, good));
        assertArrayEquals(FOO, get(t, FOO_HASH));
    }

    @Test
    void readIfAtHandGivesTheVerifiedBlock() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        byte[] data = randomBytes(3000, 7);
        String hash = md5(data);
        // Only on the mount visited second: the first one's absence is no reason to give up.
        inOrder(s, hash).get(1).putRaw(hash, data);
        ByteBuffer copy = s.readIfAtHand(hash, data.length);
        assertArrayEquals(data, java.util.Arrays.copyOfRange(copy.array(), copy.position(), copy.limit()));
        assertEquals(0, pool.inUse(), "no pool buffer is taken for it");
    }

    @Test
    void readIfAtHandLeavesEverythingUnusualToRead() throws Exception {
        MemoryVolume v = volume();
        KeepStore s = store(mount(1, v));
        assertNull(s.readIfAtHand(FOO_HASH, FOO.length), "absent everywhere: read() answers 404");
        v.putRaw(FOO_HASH, FOO);
        assertNull(s.readIfAtHand(FOO_HASH, FOO.length + 1), "another size than the locator says");
        assertNull(s.readIfAtHand("not a hash", FOO.length));
        assertNull(s.readIfAtHand(FOO_HASH, KeepStore.AT_HAND_LIMIT + 1L), "too large to hash here");

        v.putRaw(FOO_HASH, "fox".getBytes(StandardCharsets.US_ASCII));
        assertNull(s.readIfAtHand(FOO_HASH, FOO.length), "a corrupt copy is never given");
        assertEquals(502, status(() -> get(s, FOO_HASH)), "read() reports it");

        v.putRaw(FOO_HASH, FOO);
        v.failWith(new IOException("broken"));
        assertNull(s.readIfAtHand(FOO_HASH, FOO.length), "a failing volume is left to read()");
    }

    @Test
    void readIfAtHandFindsAGoodCopyOnlyWhereReadWould() throws Exception {
        KeepStore s = store(mount(1, volume()), mount(2, volume()));
        corruptFirstGoodSecond(s);
        // The first copy visited is corrupt: read() logs it and fails over; this leaves that to it.
        assertNull(s.readIfAtHand(FOO_HASH, FOO.length));
        assertArrayEquals(FOO, get(s, FOO_HASH));
        // read() remembered the corrupt copy and now visits it last, and so does this.
        ByteBuffer copy = s.readIfAtHand(FOO_HASH, FOO.length);
        assertEquals(FOO.length, copy.remaining());
    }
}
