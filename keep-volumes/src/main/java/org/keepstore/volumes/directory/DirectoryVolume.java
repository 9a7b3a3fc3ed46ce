package org.keepstore.volumes.directory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.IndexSink;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.core.VolumeFullException;
import org.keepstore.core.VolumeStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume in a local directory, with the reference keepstore's on-disk layout (SPEC §8), so a
 * tree written by the reference server is served as-is and vice versa:
 * <ul>
 *   <li>block: {@code ROOT/HHH/HASH}, where {@code HHH} is the first three hex digits;</li>
 *   <li>trash: {@code ROOT/HHH/HASH.trash.DEADLINE}, the deadline in Unix seconds;</li>
 *   <li>partial writes: {@code ROOT/HHH/tmpHASH<digits>}, renamed into place when complete;</li>
 *   <li>{@code ROOT/full}: a symlink whose target is the Unix time at which the volume was found
 *       full; for an hour after that, writes fail fast.</li>
 * </ul>
 * Unlike the reference server, a write fsyncs the file and its directory before returning, so an
 * acknowledged block survives a crash.
 *
 * <p>Device id: {@code UUID/PATH} where UUID is the filesystem's entry in
 * {@code /dev/disk/by-uuid} and PATH the volume's path inside that filesystem, so every host
 * that mounts the same disk reports the same id; where no such entry exists (tmpfs, overlay,
 * network filesystems, containers), {@code HOSTNAME:ROOT}.
 */
public final class DirectoryVolume implements Volume {

    /** A volume with less free space than this is full (one maximum-size block). */
    static final long MIN_FREE_BYTES = Locator.MAX_BLOCK_SIZE;
    /** How long a {@code full} marker keeps the volume full without looking again. */
    static final Duration FULL_MARKER_LIFETIME = Duration.ofHours(1);
    static final String FULL_MARKER = "full";

    /**
     * Reads and writes go through the JDK's per-thread temporary direct buffers; keep those
     * small, and within what the launcher lets the JDK cache (jdk.nio.maxCachedBufferSize=256 KiB),
     * so they are reused rather than allocated and freed on every call.
     */
    private static final int MAX_IO_CHUNK = 256 << 10;

    private static final Pattern BLOCK_DIR = Pattern.compile("[0-9a-f]{3}");
    private static final Pattern BLOCK_FILE = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern TRASH_FILE = Pattern.compile("([0-9a-f]{32})\\.trash\\.(\\d+)");
    private static final Pattern TEMP_FILE = Pattern.compile("tmp[0-9a-f]{32}.*");

    private static final Logger log = LoggerFactory.getLogger(DirectoryVolume.class);

    private final Path root;
    private final VolumeContext context;
    private final String deviceId;
    /** One I/O at a time when {@code Serialize} is set; null otherwise. Fair, so no op starves. */
    private final Semaphore serializer;
    /** Writes large blocks past the page cache (see {@link DirectWriter} for why). */
    private final DirectWriter directWriter;
    /** Reads cached small blocks without any chance of waiting (see {@link #readIfAtHand}). */
    private final PageCacheReader pageCacheReader;
    /**
     * This volume's temporary files being written now. Their space is given back if they fail,
     * so while there are any, a shortage of space may be passing (see {@link #checkNotMarkedFull}).
     */
    private final AtomicInteger writesInProgress = new AtomicInteger();

    /** A volume over {@code root} with I/O in parallel. */
    public DirectoryVolume(Path root, VolumeContext context) throws IOException {
        this(root, false, context);
    }

    /**
     * Opens a volume over an existing directory and removes temporary files that interrupted
     * writes left behind: every {@code tmp…} file in a block directory that no process holds a
     * {@code flock} lock on. A write of this implementation in another process holds one and is
     * left alone; the reference keepstore does not lock its temporary files, so a write it has in
     * progress in the same directory at that moment loses its file and fails (its client retries).
     * This happens whether or not the volume will be written to.
     *
     * @param root      an absolute path to an existing directory
     * @param serialize one I/O at a time (for disks that slow down under concurrent access)
     * @throws IllegalArgumentException if {@code root} is not absolute or not a directory
     */
    public DirectoryVolume(Path root, boolean serialize, VolumeContext context) throws IOException {
        this(root, serialize, true, context);
    }

    /**
     * As {@link #DirectoryVolume(Path, boolean, VolumeContext)}, choosing whether blocks of 1 MiB
     * and more are written and read with direct I/O (past the page cache) where the filesystem
     * allows it; with {@code directIo} false all I/O goes through the page cache.
     */
    public DirectoryVolume(Path root, boolean serialize, boolean directIo, VolumeContext context) throws IOException {
        Objects.requireNonNull(context, "context");
        if (!root.isAbsolute()) {
            throw new IllegalArgumentException("Directory volume: Root must be an absolute path: " + root);
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("Directory volume: Root is not an existing directory: " + root);
        }
        this.root = root;
        this.context = context;
        this.serializer = serialize ? new Semaphore(1, true) : null;
        this.deviceId = DeviceIds.forDirectory(root);
        this.directWriter = new DirectWriter(root);
        // Never for a serialized volume: that would bypass its one I/O at a time.
        this.pageCacheReader = new PageCacheReader(root, !serialize);
        if (!directIo) {
            directWriter.markUnavailable();
        }
        removeLeftoverTempFiles();
    }

    /** The volume's root directory. */
    public Path root() {
        return root;
    }

    @Override
    public String deviceId() {
        return deviceId;
    }

    @Override
    public String toString() {
        return "DirectoryVolume[" + root + "]";
    }

    // ---- reading ----

    @Override
    public StoredBlock open(String hash) throws IOException {
        operation("get");
        acquire();
        boolean handedOver = false;
        try {
            Path path = blockPath(hash);
            FileChannel channel;
            try {
                // Checked before opening, so that a trash or delete renaming the file away just
                // after the open cannot fail a read that the open file would serve. A symlink to
                // a file is followed, as the reference does (and the index lists it).
                if (!Files.readAttributes(path, BasicFileAttributes.class).isRegularFile()) {
                    // e.g. a directory where a block should be: opening it "works" on Linux.
                    throw new IOException("not a regular file: " + path);
                }
                channel = FileChannel.open(path, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw missing(hash); // absent, or renamed away between the check and the open
            }
            try {
                // The size from the open file itself, so a concurrent overwrite (a rename) cannot
                // make size and content disagree.
                long size = channel.size();
                StoredBlock block = new StoredBlock(size, new BlockStream(channel, size, openForDirectReads(hash, size)));
                handedOver = true;
                return block;
            } finally {
                if (!handedOver) {
                    channel.close();
                }
            }
        } catch (IOException e) {
            throw failure("get", e);
        } finally {
            if (!handedOver) {
                release();
            }
        }
    }

    /**
     * Reads a block from the page cache if all of it is there, without ever waiting for the
     * disk (see {@link PageCacheReader}); a block that is not, or anything unusual about its
     * file, is left to {@link #open}.
     */
    @Override
    public int readIfAtHand(String hash, ByteBuffer into) {
        int length = pageCacheReader.read(hash, into);
        if (length >= 0) {
            operation("get");
            context.metrics().ioBytes(deviceId, VolumeMetrics.READ, length);
        }
        return length;
    }

    /**
     * A second handle on a large block file, for reading it with direct I/O; null where direct
     * I/O is not possible (then everything is read through the page cache).
     */
    private FileChannel openForDirectReads(String hash, long size) {
        if (size < DirectWriter.MIN_DIRECT_SIZE || !directWriter.isAvailable()) {
            return null;
        }
        try {
            return directWriter.openForReading(blockPath(hash));
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /**
     * The bytes of an open block file. Whole aligned units read into an aligned direct buffer
     * (the engine's pool buffers) go past the page cache with direct I/O, like large writes (see
     * {@link DirectWriter}): the disk fills the buffer itself, with no page cache to fill, copy
     * out of and reclaim later, which costs a large read about as much CPU time again as the
     * hashing of it. Everything else (the tail of a block, reads into arrays) goes through the
     * page cache. Closing it closes the file and ends the serialized I/O slot.
     */
    private final class BlockStream extends InputStream implements ReadableByteChannel {
        private final FileChannel channel;
        private final long size;
        /** The same file opened for direct I/O, or null. */
        private FileChannel direct;
        private long position;
        private final AtomicBoolean closed = new AtomicBoolean();

        BlockStream(FileChannel channel, long size, FileChannel direct) {
            this.channel = channel;
            this.size = size;
            this.direct = direct;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            return read(ByteBuffer.wrap(b, off, Math.min(len, MAX_IO_CHUNK)));
        }

        /** Reads straight into the caller's buffer: for a direct one, with no copy in the JVM. */
        @Override
        public int read(ByteBuffer dst) throws IOException {
            try {
                return readInto(dst);
            } catch (ClosedChannelException e) {
                throw e; // closed by its reader, or by the reader's interrupt: not the disk's doing
            } catch (IOException e) {
                context.metrics().error(deviceId, e instanceof AccessDeniedException ? "permission" : "io");
                throw e;
            }
        }

        private int readInto(ByteBuffer dst) throws IOException {
            if (!dst.hasRemaining()) {
                return 0;
            }
            int n = -1;
            int units = directUnits(dst);
            if (units > 0) {
                ByteBuffer whole = dst.duplicate();
                whole.limit(whole.position() + units);
                try {
                    n = direct.read(whole, position);
                } catch (IOException e) {
                    if (e.getMessage() == null || !e.getMessage().contains("Invalid argument")) {
                        throw e;
                    }
                    // This filesystem or device refuses the request after all: read it buffered.
                    closeDirect();
                }
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
            }
            if (n < 0) {
                n = channel.read(dst, position);
            }
            if (n > 0) {
                position += n;
                context.metrics().ioBytes(deviceId, VolumeMetrics.READ, n);
            }
            return n;
        }

        /** How many bytes of {@code dst} a direct read may fill: whole aligned units, or 0. */
        private int directUnits(ByteBuffer dst) {
            int alignment = directWriter.alignment();
            if (direct == null || !dst.isDirect() || position % alignment != 0
                    || dst.alignmentOffset(dst.position(), alignment) != 0) {
                return 0;
            }
            long wanted = Math.min(dst.remaining(), size - position);
            return (int) (wanted / alignment * alignment);
        }

        private void closeDirect() {
            if (direct != null) {
                try {
                    direct.close();
                } catch (IOException ignored) {
                    // read-only handle: nothing to lose
                }
                direct = null;
            }
        }

        @Override
        public boolean isOpen() {
            return !closed.get();
        }

        @Override
        public long skip(long n) {
            long skipped = Math.max(0, Math.min(n, size - position));
            position += skipped;
            return skipped;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, size - position));
        }

        @Override
        public void close() throws IOException {
            if (closed.compareAndSet(false, true)) {
                try {
                    closeDirect();
                    channel.close();
                } finally {
                    release();
                }
            }
        }
    }

    // ---- writing ----

    @Override
    public void write(String hash, ByteBuffer data) throws IOException {
        operation("put");
        checkNotMarkedFull();
        acquire();
        try (TempFile temp = newTempFile(hash)) {
            long written = -1;
            if (data.remaining() >= DirectWriter.MIN_DIRECT_SIZE && directWriter.isAvailable()) {
                written = writeDirect(temp.path, data);
            }
            if (written < 0) {
                try (FileChannel out = FileChannel.open(temp.path, StandardOpenOption.WRITE)) {
                    written = writeBuffered(out, data);
                    stampAndSync(temp.path, out);
                }
            }
            publish(temp, hash);
            context.metrics().ioBytes(deviceId, VolumeMetrics.WRITTEN, written);
        } catch (IOException e) {
            throw writeFailure(e, null); // the temporary file is already gone
        } finally {
            release();
        }
    }

    /**
     * A block being written: a temporary file next to where the block goes, with the reference
     * server's name pattern ("tmp" + hash + random digits) so either server recognizes the
     * other's leftovers. It is {@code flock}ed for as long as the write is in progress, which is
     * how opening a volume tells a leftover of a dead process from a write in progress.
     * Closing it removes the file unless it was published, and releases the lock.
     */
    private final class TempFile implements AutoCloseable {
        final Path path;
        private Flock lock;
        private boolean published;
        private boolean closed;

        TempFile(Path path) {
            this.path = path;
            writesInProgress.incrementAndGet();
        }

        /** Idempotent. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (!published) {
                deleteTempFile(path);
            }
            if (lock != null) {
                lock.close();
                lock = null;
            }
            writesInProgress.decrementAndGet();
        }
    }

    private TempFile newTempFile(String hash) throws IOException {
        Path dir = blockDir(hash);
        try {
            // Not createDirectories: a vanished root must fail, not be recreated empty.
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException alreadyThere) {
            // the usual case
        }
        TempFile temp = new TempFile(Files.createTempFile(dir, "tmp" + hash, ""));
        try {
            temp.lock = Flock.lock(temp.path);
        } catch (IOException e) {
            temp.close();
            throw e;
        }
        return temp;
    }

    /** Renames a complete, fsynced temporary file into place and makes the rename durable. */
    private void publish(TempFile temp, String hash) throws IOException {
        Files.move(temp.path, blockPath(hash), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        temp.published = true;
        syncDirectory(temp.path.getParent());
    }

    /**
     * The exception for a failed write: {@link VolumeFullException} when out of space. The volume
     * is marked full only if it still is once this write's temporary file is gone and no other
     * write is in progress: a burst of large writes can run out of space together on a volume
     * with plenty left once they fail, and must not refuse writes for an hour after.
     *
     * @param temp the write's temporary file, removed first; null when already removed
     */
    private IOException writeFailure(IOException e, TempFile temp) {
        if (isNoSpace(e)) {
            if (temp != null) {
                temp.close();
            }
            context.metrics().error(deviceId, "full");
            try {
                if (Files.getFileStore(root).getUsableSpace() < MIN_FREE_BYTES && writesInProgress.get() == 0) {
                    markFull();
                }
            } catch (IOException cannotTell) {
                // Leave it to the next write's check.
            }
            return new VolumeFullException("volume full: " + root);
        }
        return failure("put", e);
    }

    private void deleteTempFile(Path temp) {
        if (temp != null) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                log.warn("{}: could not remove temporary file {}: {}", this, temp, cleanup.toString());
            }
        }
    }

    /**
     * Writes large blocks while they arrive, with direct I/O into a temporary file that is
     * renamed into place on commit. Not for a serialized volume (a slow client would hold its
     * only I/O slot for the whole upload) nor where direct I/O is unavailable: there the engine
     * writes the whole block at once, as before.
     */
    @Override
    public PendingWrite startWrite(String hash) throws IOException {
        if (serializer != null || !directWriter.isAvailable()) {
            return null;
        }
        checkNotMarkedFull();
        TempFile temp = null;
        try {
            temp = newTempFile(hash);
            PendingWrite pending = new PendingDirectWrite(hash, temp, directWriter.open(temp.path));
            temp = null;
            return pending;
        } catch (IOException | UnsupportedOperationException e) {
            return null; // the whole-block write will report (or get around) the problem
        } finally {
            if (temp != null) {
                temp.close();
            }
        }
    }

    /** See {@link #startWrite}. */
    private final class PendingDirectWrite implements PendingWrite {
        private final String hash;
        private final TempFile temp;
        private final FileChannel out;
        /** Bytes appended so far. */
        private long length;
        /** Where the written bytes end in the file, padding of an unaligned last piece included. */
        private long end;
        private boolean closed;

        PendingDirectWrite(String hash, TempFile temp, FileChannel out) {
            this.hash = hash;
            this.temp = temp;
            this.out = out;
        }

        @Override
        public void append(ByteBuffer data) throws IOException {
            if (closed || end != length) {
                throw new IllegalStateException(closed ? "closed" : "appended after the last piece");
            }
            try {
                end = directWriter.writeAt(out, data, length);
            } catch (DirectWriter.Refused e) {
                directWriter.markUnavailable();
                throw e;
            }
            length += data.remaining();
        }

        @Override
        public void commit() throws IOException {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            operation("put");
            try {
                if (end != length) {
                    out.truncate(length);
                }
                stampAndSync(temp.path, out);
                out.close();
                publish(temp, hash);
                context.metrics().ioBytes(deviceId, VolumeMetrics.WRITTEN, length);
            } catch (IOException e) {
                throw writeFailure(e, temp);
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                out.close();
            } catch (IOException e) {
                // nothing to keep
            }
            temp.close();
        }
    }

    /**
     * Writes and fsyncs {@code temp} with direct I/O.
     *
     * @return the bytes written, or -1 if this filesystem refuses direct I/O (then nothing is
     *         written and later writes go buffered)
     */
    private long writeDirect(Path temp, ByteBuffer data) throws IOException {
        FileChannel out;
        try {
            out = directWriter.open(temp);
        } catch (IOException | UnsupportedOperationException e) {
            log.info("{}: direct I/O unavailable ({}); writing through the page cache", this, e.toString());
            directWriter.markUnavailable();
            return -1;
        }
        try (out) {
            long written;
            try {
                written = directWriter.write(out, data);
            } catch (DirectWriter.Refused e) {
                // The filesystem opened the file but cannot do direct I/O after all.
                log.info("{}: direct I/O refused ({}); writing through the page cache", this, e.toString());
                directWriter.markUnavailable();
                out.truncate(0);
                return -1;
            }
            stampAndSync(temp, out);
            return written;
        }
    }

    private static long writeBuffered(FileChannel out, ByteBuffer data) throws IOException {
        long written = 0;
        ByteBuffer src = data.duplicate();
        while (src.hasRemaining()) {
            // Slices keep the JDK's temporary direct buffer at MAX_IO_CHUNK, not 64 MiB.
            ByteBuffer chunk = src.slice(src.position(), Math.min(src.remaining(), MAX_IO_CHUNK));
            while (chunk.hasRemaining()) {
                written += out.write(chunk);
            }
            src.position(src.position() + chunk.limit());
        }
        return written;
    }

    // ---- mtime ----

    @Override
    public void touch(String hash) throws IOException {
        operation("touch");
        acquire();
        try {
            Path p = blockPath(hash);
            if (!Files.isRegularFile(p)) {
                throw missing(hash);
            }
            // Locked as the reference keepstore locks it, so that a trash in another process
            // sees either the old mtime and trashes first (this touch then fails, and the PUT
            // writes a new copy) or this touch's mtime, and keeps the block.
            try (Flock lock = Flock.lock(p)) {
                setMtime(p, now());
            }
        } catch (NoSuchFileException e) {
            throw missing(hash);
        } catch (IOException e) {
            throw failure("touch", e);
        } finally {
            release();
        }
    }

    @Override
    public long mtimeNanos(String hash) throws IOException {
        operation("head");
        try {
            return nanos(Files.getLastModifiedTime(blockPath(hash)));
        } catch (NoSuchFileException e) {
            throw missing(hash);
        } catch (IOException e) {
            throw failure("head", e);
        }
    }

    // ---- trash ----

    @Override
    public void trash(String hash) throws IOException {
        trashIfMtime(hash, anyMtime -> true);
    }

    /**
     * Reads the mtime and trashes while holding a {@code flock} lock on the block file, the lock
     * {@link #touch} and {@link #untrash} take too (and the reference keepstore's touch and
     * trash), so that no touch or untrash from any process on this directory can come between
     * the check and the trashing. If another process renamed a file over the path while this
     * one waited for the lock (an untrash, say), the lock is taken again on the file now there,
     * so the file checked is the file trashed.
     */
    @Override
    public boolean trashIfMtime(String hash, LongPredicate mtimeAccepted) throws IOException {
        operation("delete");
        acquire();
        Path p = blockPath(hash);
        try {
            for (int attempt = 1; ; attempt++) {
                try (Flock lock = Flock.lock(p)) {
                    // The file the path names now (following links, as the lock's open did).
                    BasicFileAttributes current = Files.readAttributes(p, BasicFileAttributes.class);
                    Object locked = lock == null ? null : lock.lockedFileKey();
                    if (locked != null && !locked.equals(current.fileKey())) {
                        if (attempt >= 100) {
                            throw new IOException("block file " + p + " keeps being replaced");
                        }
                        continue; // replaced while we waited: lock the file there now
                    }
                    if (!mtimeAccepted.test(nanos(current.lastModifiedTime()))) {
                        return false;
                    }
                    moveToTrash(hash);
                    return true;
                }
            }
        } catch (NoSuchFileException e) {
            throw missing(hash);
        } catch (IOException e) {
            throw failure("delete", e);
        } finally {
            release();
        }
    }

    /** Renames the block file to its trash name, or deletes it with a zero trash lifetime. */
    private void moveToTrash(String hash) throws IOException {
        Path p = blockPath(hash);
        Duration lifetime = context.trashLifetime();
        if (lifetime.isZero() || lifetime.isNegative()) {
            Files.delete(p);
        } else {
            long deadline = now().plus(lifetime).getEpochSecond();
            Files.move(p, p.resolveSibling(hash + ".trash." + deadline), StandardCopyOption.ATOMIC_MOVE);
        }
        syncDirectory(p.getParent());
    }

    @Override
    public void untrash(String hash) throws IOException {
        operation("untrash");
        acquire();
        try {
            Path dir = blockDir(hash);
            Path newest = null;
            long newestDeadline = Long.MIN_VALUE;
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, hash + ".trash.*")) {
                for (Path entry : entries) {
                    Matcher m = TRASH_FILE.matcher(entry.getFileName().toString());
                    if (m.matches()) {
                        long deadline = parseDeadline(m.group(2));
                        if (newest == null || deadline > newestDeadline) {
                            newest = entry;
                            newestDeadline = deadline;
                        }
                    }
                }
            } catch (NoSuchFileException e) {
                checkRootAvailable();
            }
            if (newest == null) {
                throw new BlockNotFoundException(hash);
            }
            Path target = blockPath(hash);
            setMtime(newest, now());
            // A live copy being replaced is locked first, so that a trash deciding on its mtime
            // (in any process) does not trash the restored file instead.
            try (Flock live = lockIfPresent(target)) {
                Files.move(newest, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(dir);
        } catch (NoSuchFileException e) {
            // Emptied or restored by someone else between listing and renaming.
            throw new BlockNotFoundException(hash);
        } catch (IOException e) {
            throw failure("untrash", e);
        } finally {
            release();
        }
    }

    /** The lock of {@code file}, or null if there is no such file (or no locking here). */
    private static Flock lockIfPresent(Path file) throws IOException {
        try {
            return Flock.lock(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public EmptyTrashResult emptyTrash() throws IOException {
        operation("empty_trash");
        long nowSeconds = now().getEpochSecond();
        long deleted = 0;
        long deletedBytes = 0;
        long remaining = 0;
        long remainingBytes = 0;
        for (Path dir : blockDirs("")) {
            List<Path> trash = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.trash.*")) {
                entries.forEach(trash::add);
            } catch (NoSuchFileException | NotDirectoryException e) {
                continue;
            } catch (IOException | DirectoryIteratorException e) {
                // One unreadable block directory must not keep the others' trash forever.
                log.warn("{}: cannot list {} to empty its trash: {}", this, dir, e.toString());
                context.metrics().error(deviceId, e instanceof AccessDeniedException ? "permission" : "io");
                continue;
            }
            for (Path entry : trash) {
                Matcher m = TRASH_FILE.matcher(entry.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long size;
                try {
                    BasicFileAttributes attrs = Files.readAttributes(entry, BasicFileAttributes.class,
                            LinkOption.NOFOLLOW_LINKS);
                    if (attrs.isDirectory()) {
                        continue; // not a trashed block, whatever its name
                    }
                    size = attrs.isRegularFile() ? attrs.size() : 0;
                } catch (NoSuchFileException e) {
                    continue;
                } catch (IOException e) {
                    log.warn("{}: cannot look at trash {}: {}", this, entry, e.toString());
                    continue;
                }
                if (parseDeadline(m.group(2)) > nowSeconds) {
                    remaining++;
                    remainingBytes += size;
                    continue;
                }
                acquire();
                try {
                    if (Files.deleteIfExists(entry)) {
                        deleted++;
                        deletedBytes += size;
                    }
                } catch (IOException e) {
                    log.warn("{}: could not delete expired trash {}: {}", this, entry, e.toString());
                    context.metrics().error(deviceId, "io");
                } finally {
                    release();
                }
            }
        }
        if (deleted > 0) {
            log.info("{}: emptied trash: {} blocks ({} bytes) deleted, {} remain", this, deleted, deletedBytes,
                    remaining);
        }
        return new EmptyTrashResult(deleted, deletedBytes, remaining, remainingBytes);
    }

    // ---- index ----

    @Override
    public void index(String prefix, IndexSink sink) throws IOException {
        operation("list");
        checkRootAvailable();
        for (Path dir : blockDirs(prefix)) {
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path entry : entries) {
                    String name = entry.getFileName().toString();
                    if (BLOCK_FILE.matcher(name).matches() && name.startsWith(prefix)) {
                        names.add(name);
                    }
                }
            } catch (NoSuchFileException | NotDirectoryException e) {
                continue;
            } catch (IOException e) {
                throw failure("list", e);
            }
            names.sort(null);
            for (String name : names) {
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(dir.resolve(name), BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    continue; // trashed or deleted since it was listed
                } catch (IOException e) {
                    throw failure("list", e);
                }
                if (attrs.isRegularFile()) {
                    sink.accept(name, attrs.size(), nanos(attrs.lastModifiedTime()));
                }
            }
        }
    }

    /** The block directories that can hold hashes starting with {@code prefix}, sorted. */
    private List<Path> blockDirs(String prefix) throws IOException {
        List<Path> dirs = new ArrayList<>();
        if (prefix.length() >= 3) {
            Path dir = root.resolve(prefix.substring(0, 3));
            if (BLOCK_DIR.matcher(prefix.substring(0, 3)).matches() && Files.isDirectory(dir)) {
                dirs.add(dir);
            }
            return dirs;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                // Following links, as reads and a longer prefix's index do: a block directory
                // may be a symlink to another disk.
                if (BLOCK_DIR.matcher(name).matches() && name.startsWith(prefix) && Files.isDirectory(entry)) {
                    dirs.add(entry);
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            throw unavailable(e);
        } catch (IOException e) {
            throw failure("list", e);
        }
        dirs.sort(null);
        return dirs;
    }

    // ---- status ----

    @Override
    public VolumeStatus status() {
        try {
            FileStore store = Files.getFileStore(root);
            long total = store.getTotalSpace();
            return new VolumeStatus(root.toString(), deviceId, store.getUsableSpace(),
                    total - store.getUnallocatedSpace());
        } catch (IOException e) {
            return new VolumeStatus(root.toString(), deviceId, -1, -1);
        }
    }

    // ---- full marker ----

    /**
     * Throws {@link VolumeFullException} if the volume was marked full less than an hour ago, or
     * has less than {@link #MIN_FREE_BYTES} available now. Then it also marks it, like the
     * reference, unless other writes are in progress: their temporary files may be what takes
     * the space, and it comes back if they fail.
     */
    private void checkNotMarkedFull() throws IOException {
        Path marker = root.resolve(FULL_MARKER);
        try {
            String target = Files.readSymbolicLink(marker).toString();
            long markedAt = Long.parseLong(target.trim());
            if (now().getEpochSecond() - markedAt < FULL_MARKER_LIFETIME.toSeconds()) {
                throw new VolumeFullException("volume full: " + root);
            }
        } catch (NoSuchFileException | NumberFormatException | java.nio.file.NotLinkException e) {
            // No (valid) marker: look at the free space.
        } catch (VolumeFullException e) {
            throw e;
        } catch (IOException e) {
            checkRootAvailable();
        }
        long available;
        try {
            available = Files.getFileStore(root).getUsableSpace();
        } catch (IOException e) {
            checkRootAvailable();
            return; // cannot tell; let the write itself find out
        }
        if (available < MIN_FREE_BYTES) {
            if (writesInProgress.get() == 0) {
                markFull();
            }
            throw new VolumeFullException("volume full: " + root);
        }
    }

    /** Replaces the {@code full} marker with one pointing at the current Unix time. */
    private void markFull() {
        Path marker = root.resolve(FULL_MARKER);
        Path fresh = root.resolve(FULL_MARKER + ".tmp" + Thread.currentThread().getId());
        try {
            Files.deleteIfExists(fresh);
            Files.createSymbolicLink(fresh, Path.of(Long.toString(now().getEpochSecond())));
            Files.move(fresh, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            log.warn("{}: less than {} bytes free; marked full for {}", this, MIN_FREE_BYTES, FULL_MARKER_LIFETIME);
        } catch (IOException e) {
            // A full disk may refuse even a symlink; the free-space check still catches it next time.
            log.warn("{}: could not create the full marker: {}", this, e.toString());
            try {
                Files.deleteIfExists(fresh);
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }

    // ---- startup cleanup ----

    /**
     * Removes {@code tmp…} files that interrupted writes left in block directories, but not the
     * files of writes in progress: another process may be writing into this directory right now
     * (another volume over it, or another keepstore during a switch-over). A write of this
     * implementation holds a {@code flock} lock on its file, which dies with its process; a file
     * someone holds locked is left alone. (The reference keepstore does not lock its temporary
     * files, but writes each within a moment, from memory.)
     */
    private void removeLeftoverTempFiles() {
        int removed = 0;
        int inUse = 0;
        int failed = 0;
        try {
            for (Path dir : blockDirs("")) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "tmp*")) {
                    for (Path entry : entries) {
                        if (!TEMP_FILE.matcher(entry.getFileName().toString()).matches()) {
                            continue;
                        }
                        try (Flock unused = Flock.tryLock(entry)) {
                            if (Files.deleteIfExists(entry)) {
                                removed++;
                            }
                        } catch (Flock.HeldElsewhere e) {
                            inUse++;
                        } catch (IOException e) {
                            failed++;
                        }
                    }
                } catch (IOException e) {
                    failed++;
                }
            }
        } catch (IOException e) {
            log.warn("{}: could not look for leftover temporary files: {}", this, e.toString());
            return;
        }
        if (removed > 0 || failed > 0 || inUse > 0) {
            log.info("{}: removed {} leftover temporary files of interrupted writes ({} could not be removed,"
                    + " {} left to the writes in progress that hold them)", this, removed, failed, inUse);
        }
    }

    // ---- helpers ----

    Path blockDir(String hash) {
        return root.resolve(hash.substring(0, 3));
    }

    Path blockPath(String hash) {
        return blockDir(hash).resolve(hash);
    }

    private Instant now() {
        return context.clock().instant();
    }

    /**
     * Sets a block file's mtime to now, then fsyncs it: the mtime is part of what a write
     * promises (SPEC §8), so it is made durable with the data, before the rename.
     */
    private void stampAndSync(Path temp, FileChannel out) throws IOException {
        setMtime(temp, now());
        out.force(true);
    }

    private static void setMtime(Path p, Instant when) throws IOException {
        FileTime t = FileTime.from(when);
        Files.getFileAttributeView(p, BasicFileAttributeView.class).setTimes(t, null, null);
    }

    private static long nanos(FileTime t) {
        Instant i = t.toInstant();
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    }

    private static long parseDeadline(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE; // absurd deadline: never expires
        }
    }

    /** Makes a rename or unlink in {@code dir} durable. */
    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private void acquire() throws IOException {
        if (serializer != null) {
            try {
                serializer.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for serialized I/O on " + root);
            }
        }
    }

    private void release() {
        if (serializer != null) {
            serializer.release();
        }
    }

    private void operation(String name) {
        context.metrics().operation(deviceId, name);
    }

    /**
     * The error for a block file that is not there: 404, unless the whole volume root has
     * gone (an unmounted disk), which is 503 so the engine does not report the block missing.
     */
    private KeepException missing(String hash) throws KeepException {
        checkRootAvailable();
        return new BlockNotFoundException(hash);
    }

    /** 503 if the root directory itself has gone (unmounted disk, deleted directory). */
    private void checkRootAvailable() throws KeepException {
        if (!Files.isDirectory(root)) {
            throw unavailable(null);
        }
    }

    private KeepException unavailable(Throwable cause) {
        context.metrics().error(deviceId, "unavailable");
        return KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE + ": " + root, cause);
    }

    /** Classifies an I/O failure: typed errors pass through; a vanished root is 503; ENOSPC is full. */
    private IOException failure(String op, IOException e) {
        if (e instanceof KeepException k) {
            return k;
        }
        if (!Files.isDirectory(root)) {
            return unavailable(e);
        }
        if (isNoSpace(e)) {
            context.metrics().error(deviceId, "full");
            return new VolumeFullException("volume full: " + root);
        }
        context.metrics().error(deviceId, e instanceof AccessDeniedException ? "permission" : "io");
        log.warn("{}: {} failed: {}", this, op, e.toString());
        return e;
    }

    private static boolean isNoSpace(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String text = t instanceof FileSystemException fse ? fse.getReason() : t.getMessage();
            if (text != null && (text.contains("No space left on device") || text.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }
}
