package org.keepstore.core;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A volume that keeps blocks in the JVM heap: for tests and for embedding where durability is
 * not needed. It has the full semantics of {@link Volume} — trash with deadlines from the
 * context clock, untrash of the newest trashed copy, empty-trash, index by prefix, atomic
 * writes — and a few hooks tests use to simulate trouble: {@link #corrupt}, {@link #putRaw},
 * {@link #setCapacity} (a full volume) and {@link #failWith} (a broken one).
 *
 * <p>Thread-safe. Every stored array is private to the volume and never changes once stored,
 * so readers see either the old or the new block, never a mix.
 */
public final class MemoryVolume implements Volume {

    /** A live block: its bytes and mtime (ns since the epoch). */
    private record Stored(byte[] data, long mtimeNanos) {
    }

    /** A trashed copy: its bytes, its mtime when trashed, and when it may be deleted. */
    private record Trashed(byte[] data, long mtimeNanos, Instant deadline) {
    }

    private final String deviceId;
    private final VolumeContext context;
    private final ConcurrentHashMap<String, Stored> blocks = new ConcurrentHashMap<>();
    /** Trashed copies per hash, oldest first. Guarded by {@code this}. */
    private final Map<String, List<Trashed>> trash = new ConcurrentHashMap<>();
    /** Total size of live blocks. Guarded by {@code this}. */
    private long usedBytes;
    private volatile long capacityBytes = Long.MAX_VALUE;
    private volatile IOException failure;

    /** A memory volume with a random device id. */
    public MemoryVolume(VolumeContext context) {
        this("memory-" + UUID.randomUUID(), context);
    }

    public MemoryVolume(String deviceId, VolumeContext context) {
        this.deviceId = Objects.requireNonNull(deviceId, "deviceId");
        this.context = Objects.requireNonNull(context, "context");
    }

    @Override
    public String deviceId() {
        return deviceId;
    }

    @Override
    public StoredBlock open(String hash) throws IOException {
        Stored s = liveBlock(hash, "get");
        context.metrics().ioBytes(deviceId, VolumeMetrics.READ, s.data.length);
        return new StoredBlock(s.data.length, new ByteArrayInputStream(s.data));
    }

    /** Everything here is in memory: a block is always at hand, unless the volume is set to fail. */
    @Override
    public int readIfAtHand(String hash, ByteBuffer into) {
        if (failure != null) {
            return NOT_AT_HAND;
        }
        context.metrics().operation(deviceId, "get");
        Stored s = blocks.get(hash);
        if (s == null) {
            return ABSENT;
        }
        if (s.data.length > into.remaining()) {
            return NOT_AT_HAND;
        }
        into.put(s.data);
        context.metrics().ioBytes(deviceId, VolumeMetrics.READ, s.data.length);
        return s.data.length;
    }

    @Override
    public void write(String hash, ByteBuffer data) throws IOException {
        checkFailure();
        context.metrics().operation(deviceId, "put");
        // Copy outside the lock: the caller's buffer is reused after we return.
        byte[] copy = new byte[data.remaining()];
        data.duplicate().get(copy);
        synchronized (this) {
            Stored old = blocks.get(hash);
            long after = usedBytes - (old == null ? 0 : old.data.length) + copy.length;
            if (after > capacityBytes) {
                throw new VolumeFullException("memory volume " + deviceId + " is full");
            }
            store(hash, new Stored(copy, nowNanos()));
        }
        context.metrics().ioBytes(deviceId, VolumeMetrics.WRITTEN, copy.length);
    }

    @Override
    public void touch(String hash) throws IOException {
        checkFailure();
        context.metrics().operation(deviceId, "touch");
        long now = nowNanos();
        if (blocks.computeIfPresent(hash, (h, s) -> new Stored(s.data, now)) == null) {
            throw new BlockNotFoundException(hash);
        }
    }

    @Override
    public long mtimeNanos(String hash) throws IOException {
        return liveBlock(hash, "head").mtimeNanos;
    }

    @Override
    public synchronized void trash(String hash) throws IOException {
        checkFailure();
        context.metrics().operation(deviceId, "delete");
        Stored s = blocks.remove(hash);
        if (s == null) {
            throw new BlockNotFoundException(hash);
        }
        usedBytes -= s.data.length;
        if (context.trashLifetime().isZero()) {
            return;
        }
        Instant deadline = context.clock().instant().plus(context.trashLifetime());
        trash.computeIfAbsent(hash, h -> new ArrayList<>()).add(new Trashed(s.data, s.mtimeNanos, deadline));
    }

    @Override
    public synchronized void untrash(String hash) throws IOException {
        checkFailure();
        context.metrics().operation(deviceId, "untrash");
        List<Trashed> copies = trash.get(hash);
        if (copies == null || copies.isEmpty()) {
            throw new BlockNotFoundException(hash);
        }
        Trashed newest = copies.get(0);
        for (Trashed t : copies) {
            if (!t.deadline.isBefore(newest.deadline)) {
                newest = t;
            }
        }
        copies.remove(newest);
        if (copies.isEmpty()) {
            trash.remove(hash);
        }
        store(hash, new Stored(newest.data, nowNanos()));
    }

    @Override
    public synchronized EmptyTrashResult emptyTrash() throws IOException {
        checkFailure();
        Instant now = context.clock().instant();
        long deleted = 0;
        long deletedBytes = 0;
        long remaining = 0;
        long remainingBytes = 0;
        for (var it = trash.entrySet().iterator(); it.hasNext(); ) {
            List<Trashed> copies = it.next().getValue();
            for (var ct = copies.iterator(); ct.hasNext(); ) {
                Trashed t = ct.next();
                if (t.deadline.isAfter(now)) {
                    remaining++;
                    remainingBytes += t.data.length;
                } else {
                    ct.remove();
                    deleted++;
                    deletedBytes += t.data.length;
                }
            }
            if (copies.isEmpty()) {
                it.remove();
            }
        }
        return new EmptyTrashResult(deleted, deletedBytes, remaining, remainingBytes);
    }

    @Override
    public void index(String prefix, IndexSink sink) throws IOException {
        checkFailure();
        context.metrics().operation(deviceId, "list");
        // Iterates the live map directly (weakly consistent), so nothing is copied into a list.
        for (Map.Entry<String, Stored> e : blocks.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                Stored s = e.getValue();
                sink.accept(e.getKey(), s.data.length, s.mtimeNanos);
            }
        }
    }

    @Override
    public synchronized VolumeStatus status() {
        long used = usedBytes;
        long cap = capacityBytes;
        return new VolumeStatus("memory", deviceId, cap == Long.MAX_VALUE ? -1 : Math.max(0, cap - used), used);
    }

    // ---- test and embedding hooks ----

    /**
     * Flips the bits of the first byte of the stored copy (or, for an empty block, stores one
     * byte instead), keeping its mtime, so the copy no longer matches its hash.
     *
     * @throws BlockNotFoundException if the block is not stored
     */
    public synchronized void corrupt(String hash) throws BlockNotFoundException {
        Stored s = blocks.get(hash);
        if (s == null) {
            throw new BlockNotFoundException(hash);
        }
        byte[] bad = s.data.length == 0 ? new byte[] {0} : s.data.clone();
        bad[0] ^= (byte) 0xff;
        store(hash, new Stored(bad, s.mtimeNanos));
    }

    /** Stores arbitrary bytes under a hash, with mtime = now, bypassing capacity and failures. */
    public void putRaw(String hash, byte[] bytes) {
        putRaw(hash, bytes, nowNanos());
    }

    /** Stores arbitrary bytes under a hash with the given mtime, bypassing capacity and failures. */
    public synchronized void putRaw(String hash, byte[] bytes, long mtimeNanos) {
        store(hash, new Stored(bytes.clone(), mtimeNanos));
    }

    /** True if a live (non-trashed) copy of the block is stored. */
    public boolean contains(String hash) {
        return blocks.containsKey(hash);
    }

    /** The stored bytes of a live block (a copy), or null. */
    public byte[] get(String hash) {
        Stored s = blocks.get(hash);
        return s == null ? null : s.data.clone();
    }

    /** How many trashed copies of a block are kept. */
    public synchronized int trashedCopies(String hash) {
        List<Trashed> copies = trash.get(hash);
        return copies == null ? 0 : copies.size();
    }

    /** Limits the bytes of live blocks; a write beyond it throws {@link VolumeFullException}. */
    public void setCapacity(long bytes) {
        this.capacityBytes = bytes;
    }

    /** Makes every volume operation (except the hooks and status) throw {@code e}; null heals it. */
    public void failWith(IOException e) {
        this.failure = e;
    }

    /** Counts {@code operation} and returns the live block {@code hash}, failing as a read of it would. */
    private Stored liveBlock(String hash, String operation) throws IOException {
        checkFailure();
        context.metrics().operation(deviceId, operation);
        Stored s = blocks.get(hash);
        if (s == null) {
            throw new BlockNotFoundException(hash);
        }
        return s;
    }

    private void checkFailure() throws IOException {
        IOException e = failure;
        if (e != null) {
            context.metrics().error(deviceId, "io");
            throw e;
        }
    }

    /** Puts a live block in place, keeping the used-bytes figure right. Call with the lock held. */
    private void store(String hash, Stored block) {
        Stored old = blocks.put(hash, block);
        usedBytes += block.data.length - (old == null ? 0 : old.data.length);
    }

    private long nowNanos() {
        Instant now = context.clock().instant();
        return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
    }
}
