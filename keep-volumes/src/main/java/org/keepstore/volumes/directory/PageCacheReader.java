package org.keepstore.volumes.directory;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.file.Path;
import org.keepstore.core.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a small block file of one directory volume only if that needs no waiting: the path is
 * resolved from the kernel's lookup caches ({@code openat2} with {@code RESOLVE_CACHED}) and
 * the bytes come from the page cache ({@code preadv2} with {@code RWF_NOWAIT}); either call
 * answers {@code EAGAIN} instead of going to the disk. This is what lets the server answer a
 * GET of a cached small block on its event-loop thread instead of handing it to a worker
 * thread, which costs more than the read itself.
 *
 * <p>The JDK offers neither call, so they go through JNA. Needs Linux 5.12 or later on x86-64
 * or arm64; elsewhere, when JNA cannot load its native part, or when the filesystem does not
 * take {@code RWF_NOWAIT}, every read answers {@link Volume#NOT_AT_HAND} and the volume reads
 * the usual way. Thread-safe.
 */
final class PageCacheReader {
    private static final Logger log = LoggerFactory.getLogger(PageCacheReader.class);

    /** The same number on every Linux architecture (the generic syscall table). */
    private static final long SYS_OPENAT2 = 437;
    private static final long AT_FDCWD = -100;
    private static final long RESOLVE_CACHED = 0x20;
    private static final int RWF_NOWAIT = 0x8;
    private static final long O_NONBLOCK = 0x800;
    private static final long O_CLOEXEC = 0x80000;
    /** Differs between architectures; null where not known. */
    private static final Long O_NOFOLLOW = Platform.isLinux() && Platform.isIntel() && Platform.is64Bit() ? 0x20000L
            : Platform.isLinux() && Platform.isARM() && Platform.is64Bit() ? 0x8000L : null;
    /** What {@code struct open_how} holds: flags, mode, resolve (three u64). */
    private static final int OPEN_HOW_SIZE = 24;
    /** {@code struct iovec}: base pointer and length. */
    private static final int IOVEC_SIZE = 16;
    /** The most this reads at once: it is for small blocks on threads that must not linger. */
    private static final int MAX_READ = 1 << 20;
    /** A read that stops short stops at a page boundary (or the end of the file). */
    private static final int PAGE = 4096;

    private static final int ENOENT = 2;
    private static final int EINVAL = 22;
    private static final int ENOSYS = 38;
    private static final int E2BIG = 7;
    private static final int EOPNOTSUPP = 95;

    /** Whether the native calls can be made at all in this JVM. */
    private static final boolean NATIVE_AVAILABLE = loadNative();

    /** Per-thread native scratch memory, so a read allocates nothing native. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final Path root;
    private final byte[] rootBytes;
    private volatile boolean enabled;

    /** A reader for block files under {@code root}; {@code enabled} false gives one that never reads. */
    PageCacheReader(Path root, boolean enabled) {
        // Paths reach the kernel in the encoding the JDK itself uses for file names.
        String encoding = System.getProperty("sun.jnu.encoding");
        Charset charset = encoding != null && Charset.isSupported(encoding) ? Charset.forName(encoding)
                : Charset.defaultCharset();
        this.root = root;
        this.rootBytes = root.toString().getBytes(charset);
        this.enabled = enabled && NATIVE_AVAILABLE;
    }

    boolean isEnabled() {
        return enabled;
    }

    /**
     * Reads {@code ROOT/HHH/HASH} into {@code into} if the whole file is in memory and fits
     * (where at most 1 MiB is room enough).
     *
     * @return the file's length, {@link Volume#ABSENT} if there is no such file, else
     *         {@link Volume#NOT_AT_HAND}
     */
    int read(String hash, ByteBuffer into) {
        if (!enabled || into.remaining() > MAX_READ) {
            return Volume.NOT_AT_HAND;
        }
        Scratch scratch = SCRATCH.get();
        Pointer path = scratch.path(rootBytes, hash);
        long fd = Libc.syscall(SYS_OPENAT2, AT_FDCWD, path, scratch.openHow, OPEN_HOW_SIZE);
        if (fd < 0) {
            int errno = Native.getLastError();
            if (errno == ENOENT) {
                return Volume.ABSENT;
            }
            if (errno == ENOSYS || errno == EINVAL || errno == E2BIG) {
                disable("this kernel has no openat2 with RESOLVE_CACHED (errno " + errno + ")");
            }
            // EAGAIN (not in the lookup caches), ELOOP (a symlink), ENOTDIR, EACCES...: the usual
            // path deals with it.
            return Volume.NOT_AT_HAND;
        }
        try {
            // One byte more than there is room for tells a file that is too long.
            int wanted = into.remaining() + 1;
            long n = scratch.read((int) fd, 0, wanted);
            if (n < 0) {
                if (Native.getLastError() == EOPNOTSUPP) {
                    disable("the filesystem does not read with RWF_NOWAIT");
                }
                return Volume.NOT_AT_HAND; // EAGAIN: not all in the page cache; EISDIR...
            }
            if (n == wanted) {
                return Volume.NOT_AT_HAND;
            }
            // A short read is the end of the file, unless it stopped at a page that is not
            // cached: that can only happen at a page boundary, where one more read tells.
            if (n > 0 && n % PAGE == 0 && scratch.read((int) fd, n, 1) != 0) { // lands after the n bytes
                return Volume.NOT_AT_HAND;
            }
            scratch.copyTo(into, (int) n);
            return (int) n;
        } finally {
            Libc.close((int) fd);
        }
    }

    private void disable(String why) {
        if (enabled) {
            enabled = false;
            log.info("reading cached small blocks without a worker thread is off for {}: {}",
                    root, why);
        }
    }

    private static boolean loadNative() {
        if (O_NOFOLLOW == null) {
            log.info("native calls unavailable (not Linux on x86-64 or arm64: {} on {}); small blocks are"
                    + " read on worker threads", System.getProperty("os.name"), System.getProperty("os.arch"));
            return false;
        }
        try {
            Native.register(Libc.class, Platform.C_LIBRARY_NAME);
            return true;
        } catch (LinkageError | RuntimeException e) {
            log.info("native calls unavailable ({}); small blocks are read on worker threads", e.toString());
            return false;
        }
    }

    /** The C library's functions, bound directly (JNA direct mapping: the cheapest calls it makes). */
    private static final class Libc {
        /** {@code syscall(2)}, declared with exactly the arguments openat2 takes. */
        static native long syscall(long number, long dirfd, Pointer path, Pointer how, long size);

        static native long preadv2(int fd, Pointer iov, int iovcnt, long offset, int flags);

        static native int close(int fd);
    }

    /** One thread's native memory: the path, the open_how, the iovec and the data. */
    private static final class Scratch {
        final Memory openHow = new Memory(OPEN_HOW_SIZE);
        final Memory iovec = new Memory(IOVEC_SIZE);
        byte[] pathBytes = new byte[256];
        Memory pathMemory = new Memory(256);
        Memory data = new Memory(PAGE);

        Scratch() {
            openHow.setLong(0, O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW); // O_RDONLY is 0
            openHow.setLong(8, 0);
            openHow.setLong(16, RESOLVE_CACHED);
        }

        /** {@code ROOT/HHH/HASH}, NUL-terminated: built here, then copied out in one call. */
        Pointer path(byte[] root, String hash) {
            int length = root.length + 1 + 3 + 1 + hash.length() + 1;
            if (pathBytes.length < length) {
                pathBytes = new byte[length];
                pathMemory = new Memory(length);
            }
            System.arraycopy(root, 0, pathBytes, 0, root.length);
            int at = root.length;
            pathBytes[at++] = '/';
            for (int i = 0; i < 3; i++) {
                pathBytes[at++] = (byte) hash.charAt(i);
            }
            pathBytes[at++] = '/';
            for (int i = 0; i < hash.length(); i++) {
                pathBytes[at++] = (byte) hash.charAt(i);
            }
            pathBytes[at++] = 0;
            pathMemory.write(0, pathBytes, 0, at);
            return pathMemory;
        }

        /** Copies the first {@code length} bytes read into {@code into} (one native copy for an array). */
        void copyTo(ByteBuffer into, int length) {
            if (into.hasArray()) {
                data.read(0, into.array(), into.arrayOffset() + into.position(), length);
                into.position(into.position() + length);
            } else {
                into.put(data.getByteBuffer(0, length));
            }
        }

        /**
         * One preadv2 with RWF_NOWAIT of up to {@code length} bytes at file offset {@code offset}
         * into {@link #data} at the same offset (so a second read never overwrites the first).
         */
        long read(int fd, long offset, int length) {
            long end = offset + length;
            if (data.size() < end) {
                data = new Memory(Math.max(end, data.size() * 2));
            }
            iovec.setPointer(0, offset == 0 ? data : data.share(offset));
            iovec.setLong(8, length);
            return Libc.preadv2(fd, iovec, 1, offset, RWF_NOWAIT);
        }
    }
}
