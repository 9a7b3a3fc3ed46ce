package org.keepstore.core.worker;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.BufferPool;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.MemoryVolume;
import org.keepstore.core.Mount;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.core.testing.MutableClock;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Trash lists, untrash and trash emptying over memory volumes, with a clock moved by hand. */
class TrashWorkerTest {

    private static final Duration TTL = Duration.ofDays(14);
    private static final Duration TRASH_LIFETIME = Duration.ofHours(6);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final MutableClock clock = new MutableClock();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private MemoryVolume volume() {
        return new MemoryVolume(new VolumeContext(clock, TRASH_LIFETIME, TTL, VolumeMetrics.NONE));
    }

    private KeepStore store(boolean trashEnabled, Mount... mounts) {
        KeepStore store = new KeepStore(List.of(mounts), new BufferPool(1),
                new KeepStore.Options(clock, TTL, trashEnabled));
        toClose.add(store);
        return store;
    }

    private TrashWorker trashWorker(KeepStore store) {
        TrashWorker worker = new TrashWorker(store, 2);
        toClose.add(worker);
        return worker;
    }

    private TrashEmptier emptier(KeepStore store) {
        // No schedule is started: tests run passes with emptyNow().
        TrashEmptier emptier = new TrashEmptier(store, Duration.ofHours(24), 2, null);
        toClose.add(emptier);
        return emptier;
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    /** Writes a block through the engine and returns its hash. */
    private static String write(KeepStore store, String content) throws Exception {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        store.write(hash, ByteBuffer.wrap(data), Set.of(), null);
        return hash;
    }

    private static void apply(TrashWorker worker, TrashItem... items) throws InterruptedException {
        worker.replace(List.of(items));
        assertTrue(worker.awaitIdle(WAIT), "trash list not worked off");
    }

    @Test
    void trashListTrashesOnlyAnExactMtimeMatchOlderThanTheTtl() throws Exception {
        MemoryVolume vol = volume();
        KeepStore store = store(true, Mount.of("zzzzz-nyw5e-000000000000001", vol));
        TrashWorker worker = trashWorker(store);
        String old = write(store, "an old block");
        long oldMtime = vol.mtimeNanos(old);
        clock.advance(TTL.plusSeconds(1));
        String young = write(store, "a young block");
        long youngMtime = vol.mtimeNanos(young);

        // Off by one nanosecond: left alone.
        apply(worker, new TrashItem(old + "+12", oldMtime + 1, ""), new TrashItem(old, oldMtime - 1, null));
        assertTrue(vol.contains(old));

        // Exact match, but written within the signature TTL: left alone.
        apply(worker, new TrashItem(young, youngMtime, ""));
        assertTrue(vol.contains(young));

        // Exact match, older than the TTL: trashed, so invisible to readers.
        apply(worker, new TrashItem(old + "+12", oldMtime, ""));
        assertFalse(vol.contains(old));
        assertThrows(BlockNotFoundException.class, () -> store.verify(old));
        assertTrue(vol.contains(young));
    }

    @Test
    void untrashRestoresAndTheEmptierDeletesForGoodOnlyAfterTheLifetime() throws Exception {
        MemoryVolume vol = volume();
        KeepStore store = store(true, Mount.of("zzzzz-nyw5e-000000000000001", vol));
        TrashWorker worker = trashWorker(store);
        TrashEmptier emptier = emptier(store);
        String hash = write(store, "to be trashed twice");
        clock.advance(TTL.plusMinutes(1));

        apply(worker, new TrashItem(hash, vol.mtimeNanos(hash), ""));
        assertFalse(vol.contains(hash));
        store.untrash(hash);
        assertTrue(vol.contains(hash));
        assertEquals(19, store.verify(hash));

        // Untrash set the mtime to now, so trash it again once that is older than the TTL.
        clock.advance(TTL.plusMinutes(1));
        apply(worker, new TrashItem(hash, vol.mtimeNanos(hash), ""));
        assertFalse(vol.contains(hash));

        clock.advance(TRASH_LIFETIME.minusMinutes(1));
        EmptyTrashResult early = emptier.emptyNow();
        assertEquals(0, early.deletedBlocks());
        assertEquals(1, early.remainingBlocks());
        assertEquals(19, early.remainingBytes());

        clock.advance(Duration.ofMinutes(2));
        EmptyTrashResult due = emptier.emptyNow();
        assertEquals(1, due.deletedBlocks());
        assertEquals(19, due.deletedBytes());
        assertEquals(0, due.remainingBlocks());
        KeepException gone = assertThrows(KeepException.class, () -> store.untrash(hash));
        assertEquals(404, gone.status());
    }

    @Test
    void itemsNamingAMountTouchOnlyThatMount() throws Exception {
        MemoryVolume a = volume();
        MemoryVolume b = volume();
        MemoryVolume readOnly = volume();
        Mount mountA = Mount.of("zzzzz-nyw5e-00000000000000a", a);
        Mount mountB = Mount.of("zzzzz-nyw5e-00000000000000b", b);
        Mount mountRo = new Mount("zzzzz-nyw5e-00000000000000c", readOnly, false, false, 1, Set.of("default"), 0);
        KeepStore store = store(true, mountA, mountB, mountRo);
        TrashWorker worker = trashWorker(store);
        byte[] data = "on every mount".getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        long mtime = clock.nanos();
        a.putRaw(hash, data, mtime);
        b.putRaw(hash, data, mtime);
        readOnly.putRaw(hash, data, mtime);
        clock.advance(TTL.plusSeconds(1));

        apply(worker,
                new TrashItem(hash, mtime, "zzzzz-nyw5e-nosuchmount0000"),
                new TrashItem(hash, mtime, mountRo.uuid()),
                new TrashItem(hash, mtime, mountB.uuid()));
        assertTrue(a.contains(hash));
        assertFalse(b.contains(hash));
        assertTrue(readOnly.contains(hash));

        // No mount named: every trashable mount, never the read-only one.
        apply(worker, new TrashItem(hash, mtime, ""));
        assertFalse(a.contains(hash));
        assertTrue(readOnly.contains(hash));
    }

    @Test
    void invalidItemsAreSkippedAndTheRestOfTheListIsApplied() throws Exception {
        MemoryVolume vol = volume();
        KeepStore store = store(true, Mount.of("zzzzz-nyw5e-000000000000001", vol));
        TrashWorker worker = trashWorker(store);
        String hash = write(store, "valid one");
        long mtime = vol.mtimeNanos(hash);
        clock.advance(TTL.plusSeconds(1));

        apply(worker, new TrashItem("not-a-locator", 1, ""), new TrashItem(hash.toUpperCase(), mtime, ""),
                new TrashItem(hash, mtime, ""));
        assertFalse(vol.contains(hash));
    }

    @Test
    void neverDeleteTrashesAndDeletesNothing() throws Exception {
        MemoryVolume vol = volume();
        KeepStore store = store(false, Mount.of("zzzzz-nyw5e-000000000000001", vol));
        TrashWorker worker = trashWorker(store);
        TrashEmptier emptier = emptier(store);
        String hash = write(store, "kept forever");
        long mtime = vol.mtimeNanos(hash);
        // Something trashed before never-delete was switched on stays in trash.
        byte[] other = "trashed earlier".getBytes(StandardCharsets.UTF_8);
        vol.putRaw(md5(other), other, mtime);
        vol.trash(md5(other));
        clock.advance(TTL.plus(TRASH_LIFETIME).plusSeconds(1));

        worker.replace(List.of(new TrashItem(hash, mtime, ""), new TrashItem(hash, mtime, "")));
        assertEquals(0, worker.queued(), "lists are dropped when trashing is disabled");
        assertTrue(worker.awaitIdle(WAIT));
        assertTrue(vol.contains(hash));

        assertEquals(EmptyTrashResult.NONE, emptier.emptyNow());
        assertEquals(1, vol.trashedCopies(md5(other)));
    }

    @Test
    void scheduledEmptierRunsOnItsSchedulerAndStopsOnClose() throws Exception {
        MemoryVolume vol = volume();
        KeepStore store = store(true, Mount.of("zzzzz-nyw5e-000000000000001", vol));
        String hash = write(store, "scheduled");
        vol.trash(hash);
        clock.advance(TRASH_LIFETIME.plusSeconds(1));

        // A short real interval: the test waits for the effect, never for a fixed time.
        TrashEmptier emptier = new TrashEmptier(store, Duration.ofMillis(20), 1, null);
        toClose.add(emptier);
        emptier.start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vol.trashedCopies(hash) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, vol.trashedCopies(hash));
        emptier.close();
    }

    @Test
    void emptierCoversEveryTrashableMountEvenWhenOneFails() throws Exception {
        MemoryVolume a = volume();
        MemoryVolume broken = volume();
        MemoryVolume notTrashable = volume();
        Mount readOnly = new Mount("zzzzz-nyw5e-00000000000000c", notTrashable, false, false, 1, Set.of("default"), 0);
        KeepStore store = store(true, Mount.of("zzzzz-nyw5e-00000000000000a", a),
                Mount.of("zzzzz-nyw5e-00000000000000b", broken), readOnly);
        TrashEmptier emptier = emptier(store);
        byte[] data = "expired everywhere".getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        for (MemoryVolume v : List.of(a, broken, notTrashable)) {
            v.putRaw(hash, data);
            v.trash(hash);
        }
        broken.failWith(new java.io.IOException("disk on fire"));
        clock.advance(TRASH_LIFETIME.plusSeconds(1));

        EmptyTrashResult result = emptier.emptyNow();

        assertEquals(1, result.deletedBlocks());
        assertEquals(0, a.trashedCopies(hash));
        assertEquals(1, notTrashable.trashedCopies(hash), "a mount without allow-trash is left alone");
        broken.failWith(null);
        assertEquals(1, broken.trashedCopies(hash));
    }
}
