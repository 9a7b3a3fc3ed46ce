package org.keepstore.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.common.util.concurrent.Uninterruptibles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine (SPEC §4–§6): reads, writes, touches, trashes and lists blocks over a set of
 * mounts, verifying every byte. It knows nothing of HTTP; errors are {@link KeepException}s
 * carrying their status. Thread-safe; one instance serves all requests.
 *
 * <p>Every mount is readable; writes, touches and untrash go only to {@link Mount#allowWrite()}
 * mounts, trashing and emptying trash only to {@link Mount#allowTrash()} mounts. Errors a volume throws keep their
 * status when they are {@link KeepException}s; any other failure of a volume is reported as
 * a {@link KeepException} with status 500.
 */
public final class KeepStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KeepStore.class);

    /**
     * Blocks up to this size (64 KiB) never take a pool buffer: bodies are received into an array
     * of their own, and are hashed without a helper thread (handing over would cost more than it
     * saves). Their memory is bounded by the requests in flight instead.
     */
    public static final int SMALL_BLOCK = 64 << 10;
    /**
     * The largest block {@link #readIfAtHand} reads: it hashes on the calling thread, an event
     * loop that other connections wait for, and 64 KiB take it about 70 µs.
     */
    public static final int AT_HAND_LIMIT = 64 << 10;
    /** How much of a body arrives between two wake-ups of the hashing helper. */
    private static final int DIGEST_STEP = 256 << 10;
    /**
     * Scratch size for comparing a stored copy with data being written (within the JDK's cached
     * temporary direct buffers, see the launcher's jdk.nio.maxCachedBufferSize).
     */
    private static final int COMPARE_CHUNK = 256 << 10;
    /** A UUID of this length starts with {@code zzzzz-nyw5e-}, which rendezvous ignores. */
    private static final int ARVADOS_UUID_LENGTH = 27;
    private static final int ARVADOS_UUID_PREFIX_LENGTH = 12;
    static final String HASH_MISMATCH = "hash mismatch in request body";
    static final String LENGTH_MISMATCH = "request body length does not match Content-Length";

    /**
     * Engine settings.
     *
     * @param clock            the source of "now" (mtimes, TTL protection)
     * @param blobSignatureTtl blocks younger than this are never trashed (SPEC §6)
     * @param trashEnabled     false = {@code -never-delete}: DELETE answers 405 and trash lists
     *                         are ignored
     * @param defaultStorageClasses the classes a write that names none targets (the cluster
     *                         config's classes with {@code Default: true}); empty = any mount.
     *                         Classes no writable mount offers are left out (with a warning at
     *                         startup), and if that leaves none, such a write goes to any mount
     *                         rather than failing
     */
    public record Options(Clock clock, Duration blobSignatureTtl, boolean trashEnabled,
                          Set<String> defaultStorageClasses) {
        public Options {
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(blobSignatureTtl, "blobSignatureTtl");
            defaultStorageClasses = Set.copyOf(defaultStorageClasses);
        }

        /** Options where a write that names no storage class may go to any mount. */
        public Options(Clock clock, Duration blobSignatureTtl, boolean trashEnabled) {
            this(clock, blobSignatureTtl, trashEnabled, Set.of());
        }

        /**
         * The system clock, a two-week signature TTL, trashing allowed (what a volume then does
         * with trash depends on its {@link VolumeContext#trashLifetime}), and writes that name no
         * storage class going to any mount.
         */
        public static Options defaults() {
            return new Options(Clock.systemUTC(), Duration.ofDays(14), true);
        }
    }

    private final List<Mount> mounts;
    private final Map<String, Mount> mountsByUuid;
    private final BufferPool pool;
    private final Options options;
    /** What a write naming no class targets: the offered part of the default classes; empty = any mount. */
    private final Set<String> defaultClasses;
    /** Runs the extra writes when a block goes to several mounts at once. */
    private final ExecutorService writers;
    /**
     * Hashes large bodies while they are received and delivers large reads while the next chunk
     * is read and hashed. At most one helper per pool buffer is busy at a time.
     */
    private final ExecutorService helpers;
    /** Reads, verifies and delivers one mount's copy of a block. */
    private final CopyReader copyReader;
    /**
     * "mountUuid/hash" of copies recently found corrupt. Reads try those mounts last, so a
     * large block whose first copy is corrupt (detected only after part of it was sent) can
     * be served whole from another mount on the client's retry. Bounded; a write of the block
     * to that mount clears its entry.
     */
    private final Set<String> knownCorrupt = ConcurrentHashMap.newKeySet();
    private static final int KNOWN_CORRUPT_LIMIT = 10_000;
    /** Keeps a PUT's touch or write and a trash of the same block from interleaving. */
    private final BlockLocks blockLocks = new BlockLocks();
    /** Set by {@link #close}: every later call fails the same way instead of half working. */
    private volatile boolean closed;

    /**
     * @param mounts  the mounts, in configuration order; UUIDs and volumes must be distinct
     * @param pool    where block buffers come from; its buffers must hold a whole block
     * @param options clock, signature TTL and whether trashing is enabled
     */
    public KeepStore(List<Mount> mounts, BufferPool pool, Options options) {
        this.mounts = List.copyOf(mounts);
        this.pool = Objects.requireNonNull(pool, "pool");
        this.options = Objects.requireNonNull(options, "options");
        if (pool.bufferSize() < Locator.MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("buffer pool buffers must hold " + Locator.MAX_BLOCK_SIZE + " bytes");
        }
        Map<String, Mount> byUuid = new LinkedHashMap<>();
        Map<Volume, Mount> byVolume = new IdentityHashMap<>();
        for (Mount m : this.mounts) {
            if (byUuid.put(m.uuid(), m) != null) {
                throw new IllegalArgumentException("duplicate mount uuid " + m.uuid());
            }
            Mount other = byVolume.put(m.volume(), m);
            if (other != null) {
                // One volume counted as two replicas would overstate how safe a block is.
                throw new IllegalArgumentException("mounts " + other.uuid() + " and " + m.uuid() + " share one volume");
            }
        }
        this.mountsByUuid = Map.copyOf(byUuid);
        this.defaultClasses = offeredDefaultClasses(this.mounts, options.defaultStorageClasses());
        AtomicInteger threadNumber = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "keepstore-write-" + threadNumber.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.writers = cachedPool(threads);
        AtomicInteger helperNumber = new AtomicInteger();
        this.helpers = cachedPool(r -> {
            Thread t = new Thread(r, "keepstore-stream-" + helperNumber.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.copyReader = new CopyReader(this.pool, helpers);
    }

    /**
     * A pool like {@link Executors#newCachedThreadPool} whose tasks still run after shutdown: a
     * call in progress when {@link #close} shuts the pools down waits for its helpers (a reader
     * for its sender, a writer for the other mounts' writers, which use its buffer), so a task
     * refused then would leave it waiting forever.
     */
    private static ExecutorService cachedPool(ThreadFactory threads) {
        return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), threads,
                (task, pool) -> threads.newThread(task).start());
    }

    /** The mounts, in configuration order. */
    public List<Mount> mounts() {
        return mounts;
    }

    public BufferPool bufferPool() {
        return pool;
    }

    public Options options() {
        return options;
    }

    /** The mount with this UUID, or null. */
    public Mount mount(String uuid) {
        return uuid == null ? null : mountsByUuid.get(uuid);
    }

    private static Set<String> offeredDefaultClasses(List<Mount> mounts, Set<String> wanted) {
        Set<String> offered = new TreeSet<>();
        Set<String> missing = new TreeSet<>();
        for (String c : wanted) {
            if (mounts.stream().anyMatch(m -> m.allowWrite() && m.storageClasses().contains(c))) {
                offered.add(c);
            } else {
                missing.add(c);
            }
        }
        if (!missing.isEmpty() && offered.isEmpty()) {
            log.warn("no writable mount offers a default storage class ({}); writes that name no class"
                    + " go to any writable mount", String.join(", ", missing));
        } else if (!missing.isEmpty()) {
            log.warn("default storage class(es) {} not offered by any writable mount here; writes that name"
                    + " no class are stored in {} only", String.join(", ", missing), String.join(", ", offered));
        }
        return Set.copyOf(offered);
    }

    /** The classes a write must satisfy: those requested, or the default classes when none are named. */
    private Set<String> classesToSatisfy(Set<String> requested, String mountUuid) {
        if (requested != null && !requested.isEmpty()) {
            return requested;
        }
        // A write aimed at one mount (a pull list item naming it) takes that mount whatever its classes.
        return mountUuid != null && !mountUuid.isEmpty() ? Set.of() : defaultClasses;
    }

    // ---------------------------------------------------------------- rendezvous

    /**
     * Readable mounts in rendezvous order for a hash (SPEC §4): storage-class priority
     * descending, then {@code md5hex(hash + S)} ascending, where S is the UUID without its
     * first 12 chars when it is 27 chars long, else the whole UUID.
     */
    public List<Mount> rendezvousOrder(String hash) {
        record Ranked(Mount mount, String weight) {
        }
        List<Ranked> ranked = new ArrayList<>(mounts.size());
        MessageDigest md5 = md5();
        for (Mount m : mounts) {
            String uuid = m.uuid();
            String suffix = uuid.length() == ARVADOS_UUID_LENGTH ? uuid.substring(ARVADOS_UUID_PREFIX_LENGTH) : uuid;
            String weight = HexFormat.of().formatHex(md5.digest((hash + suffix).getBytes(StandardCharsets.UTF_8)));
            ranked.add(new Ranked(m, weight));
        }
        ranked.sort(Comparator.comparingInt((Ranked r) -> r.mount().priority()).reversed()
                .thenComparing(Ranked::weight));
        List<Mount> order = new ArrayList<>(ranked.size());
        for (Ranked r : ranked) {
            order.add(r.mount());
        }
        return order;
    }

    private List<Mount> writableOrder(String hash) {
        List<Mount> order = rendezvousOrder(hash);
        order.removeIf(m -> !m.allowWrite());
        return order;
    }

    // ---------------------------------------------------------------- write

    /**
     * Reads a request body into a pool buffer while hashing it, then stores it (SPEC §5): over
     * writable mounts in rendezvous order, an identical existing copy is touched and counted, a
     * corrupt one is overwritten, and further mounts are written (several at once when several
     * classes are pending) until every requested class has a copy and at least one replica
     * exists. Satisfying only some of the requested classes is a success; the result says which.
     *
     * @param hash           the hash the client claims (from the URL)
     * @param body           the request body
     * @param contentLength  the declared length, or -1 when unknown (chunked)
     * @param storageClasses classes to satisfy; empty = the default classes of {@link Options}
     * @throws KeepException 413 as soon as byte 64 MiB + 1 arrives (or the declared length is
     *                       larger); 400 when the MD5 differs or the body is shorter/longer than
     *                       declared; 500 collision; 507 / 503 when nothing could be written
     * @throws InterruptedException if interrupted while waiting for a buffer
     */
    public WriteResult write(String hash, InputStream body, long contentLength, Set<String> storageClasses)
            throws IOException, InterruptedException {
        ensureOpen();
        return write(hash, StreamChannel.of(body), contentLength, storageClasses);
    }

    /**
     * {@link #write(String, InputStream, long, Set)} for a body that is a blocking channel: a large
     * body is then received straight into a (direct) pool buffer, with no copy on the way.
     */
    public WriteResult write(String hash, ReadableByteChannel body, long contentLength, Set<String> storageClasses)
            throws IOException, InterruptedException {
        ensureOpen();
        requireHash(hash);
        if (contentLength > Locator.MAX_BLOCK_SIZE) {
            throw KeepException.tooLarge();
        }
        storageClasses = classesToSatisfy(storageClasses, null);
        // Refuse an unsatisfiable class before waiting for a buffer and reading the body.
        requireClassesOffered(hash, storageClasses, mounts.stream().filter(Mount::allowWrite).toList());
        // A small body gets an array of its own size: a 64 MiB pool buffer per 1 KiB PUT would
        // make small writes queue for buffers they barely use. Their memory is bounded by the
        // number of requests in flight.
        if (contentLength >= 0 && contentLength <= SMALL_BLOCK) {
            byte[] buffer = new byte[(int) contentLength];
            int length = readBody(body, contentLength, ByteBuffer.wrap(buffer), 0, null, null);
            return storeSmall(hash, buffer, length, storageClasses);
        }
        // A body of unknown length (chunked) may be small too: its first bytes, up to one more
        // than a small block holds, go to an array of their own before any pool buffer is taken.
        byte[] head = null;
        int headLength = 0;
        if (contentLength < 0) {
            head = new byte[SMALL_BLOCK + 1];
            headLength = readUpTo(body, head);
            if (headLength <= SMALL_BLOCK) {
                return storeSmall(hash, head, headLength, storageClasses);
            }
        }
        try (BufferPool.Lease lease = pool.acquire()) {
            ByteBuffer buffer = lease.buffer();
            if (head != null) {
                buffer.put(0, head, 0, headLength);
            }
            // Helper threads hash what has arrived, and write it to the first mount the block
            // will go to, while the next bytes are received.
            TrailingDigest digest = new TrailingDigest(buffer, md5(), helpers);
            EarlyWrite early = startEarlyWrite(hash, storageClasses, buffer);
            try {
                int length;
                try {
                    length = readBody(body, contentLength, buffer, headLength, digest, early);
                } catch (IOException | RuntimeException e) {
                    digest.cancel();
                    throw e;
                }
                checkDigest(hash, digest.digest(length));
                return store(hash, buffer.limit(length).position(0), storageClasses, null, early);
            } finally {
                if (early != null) {
                    early.close();
                }
            }
        }
    }

    private WriteResult storeSmall(String hash, byte[] block, int length, Set<String> storageClasses)
            throws IOException {
        MessageDigest md5 = md5();
        md5.update(block, 0, length);
        checkDigest(hash, md5.digest());
        return store(hash, ByteBuffer.wrap(block, 0, length), storageClasses, null, null);
    }

    /** Reads until {@code into} is full or the body ends; returns the bytes read. */
    private static int readUpTo(ReadableByteChannel body, byte[] into) throws IOException {
        ByteBuffer target = ByteBuffer.wrap(into);
        while (target.hasRemaining() && body.read(target) >= 0) {
            // keep reading
        }
        return target.position();
    }

    private static void checkDigest(String hash, byte[] digest) throws KeepException {
        if (!HexFormat.of().formatHex(digest).equals(hash)) {
            throw KeepException.badRequest(HASH_MISMATCH);
        }
    }

    /**
     * Reads the body straight into {@code buffer}, after the {@code start} bytes already there,
     * telling {@code digest} (if not null) how far it got. Never reads more than one byte past
     * {@link Locator#MAX_BLOCK_SIZE} (to notice it is too large) or past a declared length (to
     * notice it is too long).
     */
    private static int readBody(ReadableByteChannel body, long contentLength, ByteBuffer buffer, int start,
                                TrailingDigest digest, EarlyWrite early) throws IOException {
        int limit = contentLength >= 0 ? (int) contentLength : Locator.MAX_BLOCK_SIZE;
        ByteBuffer into = buffer.duplicate().limit(limit).position(start);
        int length = start;
        int announced = 0;
        while (length < limit) {
            int n = body.read(into);
            if (n < 0) {
                break;
            }
            length += n;
            if (digest != null && length - announced >= DIGEST_STEP) {
                digest.advance(length);
                if (early != null) {
                    early.advance(length);
                }
                announced = length;
            }
        }
        if (contentLength >= 0 && length < contentLength) {
            throw KeepException.badRequest(LENGTH_MISMATCH);
        }
        if (length == limit && readsMore(body)) {
            throw contentLength >= 0 ? KeepException.badRequest(LENGTH_MISMATCH) : KeepException.tooLarge();
        }
        return length;
    }

    /** Whether the body has at least one more byte (read and dropped: the body is refused anyway). */
    private static boolean readsMore(ReadableByteChannel body) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        int n;
        do {
            n = body.read(one);
        } while (n == 0);
        return n > 0;
    }

    /**
     * Stores a block already in memory (e.g. fetched by the pull worker). Verifies the MD5.
     *
     * @param data           the block, from position to limit; not modified
     * @param storageClasses classes to satisfy; empty = the default classes of {@link Options}
     * @param mountUuid      if not null or empty, write to this mount only (it must be writable)
     * @throws KeepException 400 when the MD5 differs from {@code hash}; 413 when too large;
     *                       404 for an unknown {@code mountUuid}; otherwise as
     *                       {@link #write(String, InputStream, long, Set)}
     */
    public WriteResult write(String hash, ByteBuffer data, Set<String> storageClasses, String mountUuid)
            throws IOException {
        ensureOpen();
        requireHash(hash);
        if (data.remaining() > Locator.MAX_BLOCK_SIZE) {
            throw KeepException.tooLarge();
        }
        MessageDigest md5 = md5();
        md5.update(data.duplicate());
        if (!HexFormat.of().formatHex(md5.digest()).equals(hash)) {
            throw KeepException.badRequest(HASH_MISMATCH);
        }
        return store(hash, data, storageClasses, mountUuid, null);
    }

    /**
     * Starts writing a large block being received to the first mount {@link #store} would
     * write it to, unless that mount already has it (then a touch will do) or cannot write
     * incrementally. Null when there is no such write.
     */
    private EarlyWrite startEarlyWrite(String hash, Set<String> storageClasses, ByteBuffer buffer) {
        Replication wanted = new Replication(classesToSatisfy(storageClasses, null));
        for (Mount m : writableOrder(hash)) {
            if (!wanted.wants(m)) {
                continue;
            }
            try {
                m.volume().mtimeNanos(hash);
                return null; // already there: store() finds and touches it
            } catch (BlockNotFoundException e) {
                return EarlyWrite.start(m, hash, buffer, helpers);
            } catch (IOException | RuntimeException e) {
                return null; // the usual write will find out what is wrong
            }
        }
        return null;
    }

    /**
     * SPEC §5 steps 2–4 for verified data.
     *
     * @param early the block's early write to one mount, or null; used if that mount is to get
     *              a copy, otherwise discarded by the caller
     */
    private WriteResult store(String hash, ByteBuffer data, Set<String> storageClasses, String mountUuid,
                              EarlyWrite early) throws IOException {
        return blockLocks.holding(hash, () -> storeHoldingLock(hash, data, storageClasses, mountUuid, early));
    }

    private WriteResult storeHoldingLock(String hash, ByteBuffer data, Set<String> storageClasses, String mountUuid,
                                         EarlyWrite early) throws IOException {
        storageClasses = classesToSatisfy(storageClasses, mountUuid);
        List<Mount> candidates;
        if (mountUuid != null && !mountUuid.isEmpty()) {
            Mount target = mount(mountUuid);
            if (target == null) {
                throw new KeepException(404, "no such mount: " + mountUuid);
            }
            candidates = target.allowWrite() ? List.of(target) : List.of();
        } else {
            candidates = writableOrder(hash);
        }
        requireClassesOffered(hash, storageClasses, candidates);
        Replication progress = new Replication(storageClasses);

        // Existing copies: an identical one counts (after a touch), a different but intact one
        // is a collision (write nowhere), a corrupt one is overwritten.
        List<Mount> remaining = new ArrayList<>(candidates);
        List<Mount> corrupt = new ArrayList<>();
        for (Mount m : candidates) {
            if (progress.isSatisfied()) {
                break;
            }
            if (!progress.wants(m)) {
                continue;
            }
            switch (existingCopy(m, hash, data)) {
                case IDENTICAL -> {
                    try {
                        m.volume().touch(hash);
                        progress.add(m);
                        remaining.remove(m);
                    } catch (IOException | RuntimeException e) {
                        log.warn("write {}: could not touch existing copy on mount {} (volume {}): {}",
                                hash, m.uuid(), m.deviceId(), e.toString());
                    }
                }
                case CORRUPT -> corrupt.add(m);
                case ABSENT, UNREADABLE -> {
                }
            }
        }

        List<Throwable> failures = new ArrayList<>();
        if (!corrupt.isEmpty()) {
            // Repair corrupt copies even when other mounts already satisfy the request: left in
            // place, a corrupt copy early in rendezvous order would spoil reads of large blocks.
            remaining.removeAll(corrupt);
            writeWave(hash, data, corrupt, progress, failures, early);
        }
        while (!progress.isSatisfied()) {
            List<Mount> wave = progress.nextWave(remaining);
            if (wave.isEmpty()) {
                break;
            }
            remaining.removeAll(wave);
            writeWave(hash, data, wave, progress, failures, early);
        }

        if (progress.replicas == 0) {
            // Some but not all classes satisfied counts as success (the client sees which were
            // confirmed); nothing at all stored is a failure.
            boolean allFull = failures.stream().allMatch(f -> f instanceof VolumeFullException);
            if (allFull) {
                throw KeepException.insufficientStorage();
            }
            throw KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, failures.get(0));
        }
        return new WriteResult(Locator.of(hash, data.remaining()), progress.replicas, progress.classesConfirmed);
    }

    /** 507 unless every requested class is offered by at least one of {@code candidates}. */
    private static void requireClassesOffered(String hash, Set<String> storageClasses, List<Mount> candidates)
            throws KeepException {
        if (storageClasses == null) {
            return;
        }
        for (String wanted : storageClasses) {
            if (candidates.stream().noneMatch(m -> m.storageClasses().contains(wanted))) {
                log.info("write {}: no writable mount offers storage class {}", hash, wanted);
                throw KeepException.insufficientStorage();
            }
        }
    }

    /** Writes to every mount of a wave, counting successes in progress and collecting failures. */
    private void writeWave(String hash, ByteBuffer data, List<Mount> wave, Replication progress,
                           List<Throwable> failures, EarlyWrite early) {
        List<Throwable> results = writeAll(hash, data, wave, early);
        for (int i = 0; i < wave.size(); i++) {
            Mount m = wave.get(i);
            Throwable failure = results.get(i);
            if (failure == null) {
                progress.add(m);
                knownCorrupt.remove(corruptKey(m, hash));
            } else {
                log.warn("write {}: mount {} (volume {}) failed: {}", hash, m.uuid(), m.deviceId(), failure.toString());
                failures.add(failure);
            }
        }
    }

    /**
     * Writes to every mount of a wave, in parallel when there are several, and waits for all of
     * them (the caller's buffer must stay untouched until every writer is done).
     *
     * @return per mount, null for success or the failure
     */
    private List<Throwable> writeAll(String hash, ByteBuffer data, List<Mount> wave, EarlyWrite early) {
        List<Future<?>> others = new ArrayList<>();
        for (Mount m : wave.subList(1, wave.size())) {
            others.add(writers.submit(() -> {
                writeTo(m, hash, data, early);
                return null;
            }));
        }
        List<Throwable> results = new ArrayList<>(wave.size());
        try {
            writeTo(wave.get(0), hash, data, early);
            results.add(null);
        } catch (IOException | RuntimeException e) {
            results.add(e);
        }
        for (Future<?> f : others) {
            try {
                // Even when interrupted, keep waiting: the writer still reads our buffer.
                Uninterruptibles.getUninterruptibly(f);
                results.add(null);
            } catch (ExecutionException e) {
                results.add(e.getCause());
            }
        }
        return results;
    }

    /** Writes the block to one mount, by committing its early write there if there is one. */
    private static void writeTo(Mount m, String hash, ByteBuffer data, EarlyWrite early) throws IOException {
        if (early != null && early.mount() == m) {
            if (early.commit(data.remaining())) {
                return;
            }
            log.info("write {}: writing to mount {} (volume {}) while receiving failed; writing it again",
                    hash, m.uuid(), m.deviceId());
        }
        m.volume().write(hash, data.duplicate());
    }

    /** What a mount holds under the hash of a block being written. */
    private enum ExistingCopy { ABSENT, IDENTICAL, CORRUPT, UNREADABLE }

    /**
     * Whether {@code m} already holds exactly {@code data}. Reads the stored copy through,
     * comparing and hashing it, to tell an intact different block (a collision) from a corrupt
     * copy (which the caller overwrites).
     *
     * @throws CollisionException if the stored copy is intact and differs from {@code data}
     */
    private ExistingCopy existingCopy(Mount m, String hash, ByteBuffer data) throws CollisionException {
        StoredBlock block;
        try {
            block = m.volume().open(hash);
        } catch (BlockNotFoundException e) {
            return ExistingCopy.ABSENT;
        } catch (IOException | RuntimeException e) {
            log.warn("write {}: could not check for an existing copy on mount {} (volume {}): {}",
                    hash, m.uuid(), m.deviceId(), e.toString());
            return ExistingCopy.UNREADABLE;
        }
        boolean equal;
        boolean intact;
        try (block) {
            // Compare first; hash only from the first difference on. An identical copy (the
            // usual case: a client writing a block again) then costs a read and a compare, not
            // a second MD5 pass. Up to the first difference the copy equals data, whose MD5 is
            // known to match, so that part is hashed from data.
            MessageDigest md5 = null;
            byte[] scratch = new byte[COMPARE_CHUNK];
            ByteBuffer expected = data.duplicate();
            InputStream in = block.stream();
            int n;
            while ((n = in.read(scratch)) >= 0) {
                if (md5 == null) {
                    if (n <= expected.remaining()
                            && ByteBuffer.wrap(scratch, 0, n).mismatch(expected.slice(expected.position(), n)) < 0) {
                        expected.position(expected.position() + n);
                        continue;
                    }
                    md5 = md5();
                    md5.update(data.duplicate().limit(expected.position()));
                }
                md5.update(scratch, 0, n);
            }
            equal = md5 == null && !expected.hasRemaining();
            if (!equal && md5 == null) {
                // Equal as far as it goes, but shorter.
                md5 = md5();
                md5.update(data.duplicate().limit(expected.position()));
            }
            intact = equal || HexFormat.of().formatHex(md5.digest()).equals(hash);
        } catch (IOException | RuntimeException e) {
            log.warn("write {}: could not read the existing copy on mount {} (volume {}): {}",
                    hash, m.uuid(), m.deviceId(), e.toString());
            return ExistingCopy.UNREADABLE;
        }
        if (equal) {
            return ExistingCopy.IDENTICAL;
        }
        if (intact) {
            log.error("hash collision: mount {} (volume {}) holds different data with hash {}",
                    m.uuid(), m.deviceId(), hash);
            throw new CollisionException(hash);
        }
        log.warn("corrupt copy of {} on mount {} (volume {}); it will be overwritten", hash, m.uuid(), m.deviceId());
        return ExistingCopy.CORRUPT;
    }

    /** Tracks which requested classes are satisfied and what was stored where. */
    private static final class Replication {
        /** Requested classes not yet satisfied; empty when none were requested. */
        final Set<String> pendingClasses;
        final boolean classesRequested;
        final Map<String, Integer> classesConfirmed = new LinkedHashMap<>();
        int replicas;

        Replication(Set<String> requested) {
            this.pendingClasses = new HashSet<>(requested == null ? Set.of() : requested);
            this.classesRequested = !pendingClasses.isEmpty();
        }

        boolean isSatisfied() {
            return replicas > 0 && pendingClasses.isEmpty();
        }

        /** Whether a copy on {@code m} would bring us closer to done. */
        boolean wants(Mount m) {
            if (classesRequested) {
                return m.storageClasses().stream().anyMatch(pendingClasses::contains);
            }
            return replicas == 0;
        }

        void add(Mount m) {
            replicas += m.replication();
            for (String c : m.storageClasses()) {
                classesConfirmed.merge(c, m.replication(), Integer::sum);
            }
            pendingClasses.removeAll(m.storageClasses());
        }

        /**
         * The first mounts of {@code remaining} that, if all succeed, finish the job: one per
         * pending class (a mount may cover several), or one if any replica will do.
         */
        List<Mount> nextWave(List<Mount> remaining) {
            List<Mount> wave = new ArrayList<>();
            if (!classesRequested) {
                if (replicas == 0 && !remaining.isEmpty()) {
                    wave.add(remaining.get(0));
                }
                return wave;
            }
            Set<String> stillNeeded = new HashSet<>(pendingClasses);
            for (Mount m : remaining) {
                if (stillNeeded.isEmpty()) {
                    break;
                }
                if (m.storageClasses().stream().anyMatch(stillNeeded::contains)) {
                    wave.add(m);
                    stillNeeded.removeAll(m.storageClasses());
                }
            }
            return wave;
        }
    }

    // ---------------------------------------------------------------- read

    /**
     * Streams a block to {@code sink}, verifying it (SPEC §4). Mounts are visited in rendezvous
     * order (those recently found to hold a corrupt copy of this block last); a corrupt copy or
     * error found before the first byte was delivered is logged and the next mount is tried.
     * A large copy goes out as it is read, while it is hashed, except its last 64 KiB, which go
     * out only after the whole block's MD5 matched. A copy over 1 MiB reaches the sink on the
     * engine's helper threads, holding a pool buffer until the sink took it all: see
     * {@link BlockSink} for what that asks of a sink.
     *
     * @return the number of bytes delivered
     * @throws KeepException 404 if no mount has it; 502 if a corrupt copy was found and no good
     *                       one; the error's own status (500 for a plain I/O error) if a mount
     *                       failed and no other had it; after bytes were delivered, a
     *                       {@link ChecksumException} or the read error (the response must then
     *                       end short)
     * @throws IOException   whatever the sink throws, unchanged
     * @throws InterruptedException if interrupted while waiting for a buffer, or while a volume
     *                              waits (for a serialized volume's turn, say) in a way that
     *                              shows the interrupt
     */
    public long read(String hash, BlockSink sink) throws IOException, InterruptedException {
        return read(hash, -1, sink);
    }

    /**
     * As {@link #read(String, BlockSink)}, for a locator with a size hint: a copy of another
     * size is verified whole before any of it is delivered, so that a corrupt copy (truncated or
     * extended) is skipped for a good one on another mount instead of being sent in part. A
     * good copy is delivered with its own size even when the hint is wrong.
     *
     * @param expectedSize the locator's size hint, or -1 for none
     */
    public long read(String hash, long expectedSize, BlockSink sink) throws IOException, InterruptedException {
        ensureOpen();
        return readVerified(hash, expectedSize, Objects.requireNonNull(sink, "sink"));
    }

    /**
     * Reads and verifies a block without delivering it (HEAD), with the same failover as
     * {@link #read}. Returns its size.
     *
     * @throws KeepException 404 if no mount has it; 502 if only corrupt copies exist; an
     *                       error's status if a mount failed and no other had it
     */
    public long verify(String hash) throws IOException, InterruptedException {
        ensureOpen();
        return readVerified(hash, -1, null);
    }

    /**
     * Reads a small block only if no mount has to wait for it ({@link Volume#readIfAtHand}),
     * for a server's event-loop threads, which must never block. Mounts are visited in the
     * order {@link #read} uses, and the copy is verified as there.
     *
     * @param size the block's size as the request states it (its locator's size hint); at most
     *             {@link #AT_HAND_LIMIT}, so that hashing on the calling thread stays short
     * @return the verified block, or null when it cannot be had at once this way: absent from
     *         every mount, not in memory, of another size, corrupt, or anything else unusual.
     *         {@link #read} then does the work and reports what is wrong.
     */
    public ByteBuffer readIfAtHand(String hash, long size) {
        ensureOpen();
        if (size < 0 || size > AT_HAND_LIMIT || !Locator.isHash(hash)) {
            return null;
        }
        ByteBuffer copy = ByteBuffer.allocate((int) size);
        for (Mount m : readOrder(hash)) {
            int length;
            try {
                length = m.volume().readIfAtHand(hash, copy.clear());
            } catch (RuntimeException e) {
                log.warn("reading {} from mount {} (volume {}) without waiting failed: {}",
                        hash, m.uuid(), m.deviceId(), e.toString());
                return null;
            }
            if (length == Volume.ABSENT) {
                continue;
            }
            // A mount that would have to wait (NOT_AT_HAND) ends the attempt even if a later
            // mount has the block in memory: read() then reads the copy read order prefers, so a
            // broken or corrupt copy there is found, logged and remembered, not hidden behind a
            // cached copy elsewhere.
            if (length != size || copy.position() != size) {
                return null;
            }
            MessageDigest md5 = md5();
            md5.update(copy.array(), 0, (int) size);
            // A corrupt copy is left to read(), which logs it, remembers it and tries the next mount.
            return HexFormat.of().formatHex(md5.digest()).equals(hash) ? copy.flip() : null;
        }
        return null;
    }

    private long readVerified(String hash, long expectedSize, BlockSink sink)
            throws IOException, InterruptedException {
        requireHash(hash);
        try (CopyReader.Buffers buffers = copyReader.newBuffers()) {
            boolean corruptSeen = false;
            IOException firstError = null;
            List<Mount> order = readOrder(hash);
            for (int i = 0; i < order.size(); i++) {
                Mount m = order.get(i);
                String next = i + 1 < order.size() ? "; trying the next mount" : "; no other mount to try";
                try {
                    return copyReader.read(m, hash, expectedSize, buffers, sink);
                } catch (BlockNotFoundException e) {
                    // try the next mount
                } catch (ChecksumException e) {
                    rememberCorrupt(m, hash);
                    log.warn("corrupt copy of {} on mount {} (volume {}) found after part of it was sent;"
                            + " the response ends short", hash, m.uuid(), m.deviceId());
                    throw e;
                } catch (CopyReader.UndeliveredCopy e) {
                    if (interruptedWhileWaiting(e.getCause())) {
                        // The caller was interrupted (a server's client went away) while the volume
                        // waited, e.g. for a serialized volume's turn: no fault of this mount, and
                        // every other mount would be interrupted the same way.
                        Thread.interrupted();
                        InterruptedException interrupted = new InterruptedException("interrupted reading " + hash);
                        interrupted.initCause(e.getCause());
                        throw interrupted;
                    }
                    if (e.corrupt) {
                        corruptSeen = true;
                        rememberCorrupt(m, hash);
                        log.warn("corrupt copy of {} on mount {} (volume {}): {}{}",
                                hash, m.uuid(), m.deviceId(), e.getMessage(), next);
                    } else {
                        log.warn("reading {} from mount {} (volume {}) failed: {}{}",
                                hash, m.uuid(), m.deviceId(), e.getCause().toString(), next);
                        if (firstError == null) {
                            firstError = asKeepException(e.getCause());
                        }
                    }
                } catch (CopyReader.SinkFailure e) {
                    throw e.unwrap();
                } catch (IOException e) {
                    // The mount failed after part of its copy was sent, so the response ends short
                    // (CopyReader logged it). Like a corrupt copy, it goes last for the client's
                    // retry, which another mount's good copy can then answer: a disk with a bad
                    // region fails the same way every time.
                    if (!interruptedWhileWaiting(e.getCause()) && !Thread.currentThread().isInterrupted()) {
                        rememberCorrupt(m, hash);
                    }
                    throw e;
                }
            }
            if (corruptSeen) {
                throw new ChecksumException(hash);
            }
            if (firstError != null) {
                throw firstError;
            }
            throw new BlockNotFoundException(hash);
        }
    }

    /**
     * Whether a volume's failure is the calling thread's interrupt showing through its blocking
     * I/O: an {@link InterruptedIOException} or {@link ClosedByInterruptException} with the
     * thread's interrupt status set. (A {@code SocketTimeoutException} is an
     * InterruptedIOException too, but it leaves the status clear: that one is the volume's.)
     */
    private static boolean interruptedWhileWaiting(Throwable failure) {
        return (failure instanceof InterruptedIOException || failure instanceof ClosedByInterruptException)
                && Thread.currentThread().isInterrupted();
    }

    /** Rendezvous order, except that mounts known to hold a corrupt copy come last. */
    private List<Mount> readOrder(String hash) {
        List<Mount> order = rendezvousOrder(hash);
        if (knownCorrupt.isEmpty()) {
            return order;
        }
        List<Mount> suspect = new ArrayList<>();
        order.removeIf(m -> knownCorrupt.contains(corruptKey(m, hash)) && suspect.add(m));
        order.addAll(suspect);
        return order;
    }

    private void rememberCorrupt(Mount m, String hash) {
        if (knownCorrupt.size() >= KNOWN_CORRUPT_LIMIT) {
            knownCorrupt.clear(); // a crude bound: this is a hint for retries, not a registry
        }
        knownCorrupt.add(corruptKey(m, hash));
    }

    private static String corruptKey(Mount m, String hash) {
        return m.uuid() + "/" + hash;
    }

    // ---------------------------------------------------------------- touch, trash, untrash

    /**
     * Sets the mtime to now on the first writable mount (rendezvous order) holding the block.
     *
     * @throws KeepException 404 if none holds it; an error's status if a mount failed and no
     *                       other holds it
     */
    public void touch(String hash) throws IOException {
        ensureOpen();
        requireHash(hash);
        blockLocks.holding(hash, () -> {
            KeepException firstError = null;
            for (Mount m : writableOrder(hash)) {
                try {
                    m.volume().touch(hash);
                    return null;
                } catch (BlockNotFoundException e) {
                    // next
                } catch (IOException | RuntimeException e) {
                    log.warn("touch {} on mount {} (volume {}) failed: {}", hash, m.uuid(), m.deviceId(), e.toString());
                    if (firstError == null) {
                        firstError = asKeepException(e);
                    }
                }
            }
            throw firstError != null ? firstError : new BlockNotFoundException(hash);
        });
    }

    /**
     * DELETE (SPEC §6): trashes the block on every trashable mount holding it, except where it is
     * younger than the signature TTL (left in place, still a success).
     *
     * @throws KeepException 405 if trash is disabled; 404 if no trashable mount has the block;
     *                       an error's status if trashing failed on some mount
     */
    public void trash(String hash) throws IOException {
        ensureOpen();
        requireHash(hash);
        if (!options.trashEnabled()) {
            throw KeepException.methodNotAllowed();
        }
        blockLocks.holding(hash, () -> {
            trashOnEveryTrashableMount(hash);
            return null;
        });
    }

    private void trashOnEveryTrashableMount(String hash) throws IOException {
        boolean found = false;
        KeepException firstError = null;
        for (Mount m : rendezvousOrder(hash)) {
            if (!m.allowTrash()) {
                continue;
            }
            try {
                boolean trashed = m.volume().trashIfMtime(hash, mtime -> !isProtectedBySignatureTtl(mtime));
                found = true;
                if (!trashed) {
                    log.info("not trashing {} on mount {}: modified within the signature TTL", hash, m.uuid());
                }
            } catch (BlockNotFoundException e) {
                // not here
            } catch (IOException | RuntimeException e) {
                log.warn("trash {} on mount {} (volume {}) failed: {}", hash, m.uuid(), m.deviceId(), e.toString());
                found = true;
                if (firstError == null) {
                    firstError = asKeepException(e);
                }
            }
        }
        if (firstError != null) {
            throw firstError;
        }
        if (!found) {
            throw new BlockNotFoundException(hash);
        }
    }

    /**
     * A trash-list item (SPEC §6): trashes the block on {@code mountUuid} (or every trashable
     * mount when null/empty) only where its mtime equals {@code mtimeNanos} exactly and that
     * mtime is older than the signature TTL. Does nothing when trash is disabled, and nothing on
     * an unknown or non-trashable mount.
     *
     * @return how many mounts trashed it
     * @throws KeepException a mount's error, after every other mount was tried
     */
    public int trash(String hash, long mtimeNanos, String mountUuid) throws IOException {
        ensureOpen();
        requireHash(hash);
        if (!options.trashEnabled()) {
            log.debug("ignoring trash item for {}: trash is disabled", hash);
            return 0;
        }
        if (isProtectedBySignatureTtl(mtimeNanos)) {
            log.info("ignoring trash item for {}: its mtime is within the signature TTL", hash);
            return 0;
        }
        List<Mount> targets;
        if (mountUuid != null && !mountUuid.isEmpty()) {
            Mount m = mount(mountUuid);
            if (m == null) {
                log.warn("ignoring trash item for {}: no mount {}", hash, mountUuid);
                return 0;
            }
            targets = List.of(m);
        } else {
            targets = rendezvousOrder(hash);
        }
        return blockLocks.holding(hash, () -> trashWhereMtimeIs(hash, mtimeNanos, targets));
    }

    private int trashWhereMtimeIs(String hash, long mtimeNanos, List<Mount> targets) throws IOException {
        int trashed = 0;
        KeepException firstError = null;
        for (Mount m : targets) {
            if (!m.allowTrash()) {
                continue;
            }
            try {
                if (m.volume().trashIfMtime(hash, stored -> stored == mtimeNanos)) {
                    trashed++;
                } else {
                    log.info("not trashing {} on mount {}: its stored mtime differs from the trash item's {}",
                            hash, m.uuid(), mtimeNanos);
                }
            } catch (BlockNotFoundException e) {
                // not here
            } catch (IOException | RuntimeException e) {
                log.warn("trash {} on mount {} (volume {}) failed: {}", hash, m.uuid(), m.deviceId(), e.toString());
                if (firstError == null) {
                    firstError = asKeepException(e);
                }
            }
        }
        if (firstError != null) {
            throw firstError;
        }
        return trashed;
    }

    /**
     * Restores a trashed block on every writable mount that has it in trash.
     *
     * @throws KeepException 404 if none did; an error's status if none succeeded and some failed
     */
    public void untrash(String hash) throws IOException {
        ensureOpen();
        requireHash(hash);
        blockLocks.holding(hash, () -> {
            untrashOnEveryWritableMount(hash);
            return null;
        });
    }

    private void untrashOnEveryWritableMount(String hash) throws IOException {
        int restored = 0;
        KeepException firstError = null;
        for (Mount m : writableOrder(hash)) {
            try {
                m.volume().untrash(hash);
                restored++;
            } catch (BlockNotFoundException e) {
                // nothing trashed here
            } catch (IOException | RuntimeException e) {
                log.warn("untrash {} on mount {} (volume {}) failed: {}", hash, m.uuid(), m.deviceId(), e.toString());
                if (firstError == null) {
                    firstError = asKeepException(e);
                }
            }
        }
        if (restored > 0) {
            return;
        }
        throw firstError != null ? firstError : new BlockNotFoundException(hash);
    }

    /** True if a block with this mtime may still be covered by a valid signature. */
    private boolean isProtectedBySignatureTtl(long mtimeNanos) {
        Instant now = options.clock().instant();
        long nowNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        return nowNanos - mtimeNanos < options.blobSignatureTtl().toNanos();
    }

    // ---------------------------------------------------------------- index, trash emptying

    /**
     * Streams the index of every mount, one mount after another; entries go to {@code sink} as
     * volumes list them, nothing is collected in memory. An exception {@code sink} throws stops
     * the listing and reaches the caller unchanged.
     *
     * @throws KeepException if a mount's listing fails (the index is then incomplete)
     */
    public void index(String prefix, IndexSink sink) throws IOException {
        ensureOpen();
        for (Mount m : mounts) {
            indexMount(m, prefix, sink);
        }
    }

    /**
     * Streams the index of one mount.
     *
     * @throws KeepException 404 for an unknown UUID; the listing's error if it fails
     */
    public void index(String mountUuid, String prefix, IndexSink sink) throws IOException {
        ensureOpen();
        Mount m = mount(mountUuid);
        if (m == null) {
            throw new KeepException(404, "no such mount: " + mountUuid);
        }
        indexMount(m, prefix, sink);
    }

    private static void indexMount(Mount m, String prefix, IndexSink sink) throws IOException {
        Objects.requireNonNull(sink, "sink");
        CallerSink caller = new CallerSink(sink);
        try {
            m.volume().index(prefix == null ? "" : prefix, caller);
        } catch (IOException | RuntimeException e) {
            // The caller's own failure (a client gone, a bug in the sink) is theirs, whatever a
            // volume made of it on the way out: not a volume error.
            caller.rethrowFailure();
            throw asKeepException(e); // says "volume error", with the volume's status if it has one
        }
    }

    /** Remembers what the caller's sink threw, so that exactly that reaches the caller. */
    private static final class CallerSink implements IndexSink {
        private final IndexSink sink;
        private volatile Throwable failure;

        CallerSink(IndexSink sink) {
            this.sink = sink;
        }

        @Override
        public void accept(String hash, long size, long mtimeNanos) throws IOException {
            try {
                sink.accept(hash, size, mtimeNanos);
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
                throw e;
            }
        }

        void rethrowFailure() throws IOException {
            Throwable f = failure;
            if (f instanceof IOException io) {
                throw io;
            }
            if (f instanceof RuntimeException r) {
                throw r;
            }
            if (f instanceof Error err) {
                throw err;
            }
        }
    }

    /**
     * Empties expired trash on every trashable mount, one after another. A failing mount does
     * not stop the others; its error is thrown once all were done.
     */
    public EmptyTrashResult emptyTrash() throws IOException {
        ensureOpen();
        EmptyTrashResult total = EmptyTrashResult.NONE;
        KeepException firstError = null;
        for (Mount m : mounts) {
            if (!m.allowTrash()) {
                continue;
            }
            try {
                total = total.plus(m.volume().emptyTrash());
            } catch (IOException | RuntimeException e) {
                log.warn("emptying trash on mount {} (volume {}) failed: {}", m.uuid(), m.deviceId(), e.toString());
                if (firstError == null) {
                    firstError = asKeepException(e);
                }
            }
        }
        if (firstError != null) {
            throw firstError;
        }
        return total;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("KeepStore is closed");
        }
    }

    /**
     * Stops the engine's writer threads and closes every volume. Every later call that reads,
     * writes, lists, trashes or untrashes blocks throws {@link IllegalStateException}; the
     * accessors of the configuration ({@link #mounts}, {@link #options} and the like) still answer.
     * Calls in progress are not waited for: they end, or fail on the closed volumes.
     */
    @Override
    public void close() throws IOException {
        closed = true;
        writers.shutdown();
        helpers.shutdown();
        IOException firstError = null;
        for (Mount m : mounts) {
            try {
                m.volume().close();
            } catch (IOException | RuntimeException e) {
                log.warn("closing mount {} (volume {}) failed: {}", m.uuid(), m.deviceId(), e.toString());
                if (firstError == null) {
                    firstError = asKeepException(e);
                }
            }
        }
        try {
            writers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (firstError != null) {
            throw firstError;
        }
    }

    // ---------------------------------------------------------------- helpers

    /** A volume failure as the caller sees it: a KeepException keeps its status, anything else is 500. */
    static KeepException asKeepException(Throwable t) {
        if (t instanceof KeepException k) {
            return k;
        }
        // The message, not the exception's class name: it reaches clients in the response body.
        // Except where the message is only a file's name (a FileSystemException without a
        // reason, e.g. AccessDeniedException): then the name says what happened to it.
        String detail = t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getSimpleName()
                : t instanceof java.nio.file.FileSystemException fse && fse.getReason() == null
                ? t.getClass().getSimpleName() + ": " + t.getMessage()
                : t.getMessage();
        return new KeepException(500, "volume error: " + detail, t);
    }

    private static void requireHash(String hash) throws KeepException {
        if (!Locator.isHash(hash)) {
            throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
        }
    }

    static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 unavailable", e);
        }
    }
}
