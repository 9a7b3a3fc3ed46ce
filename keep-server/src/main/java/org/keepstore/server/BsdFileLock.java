package org.keepstore.server;

import java.nio.file.Path;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive {@code flock(2)} lock on a file, held through a descriptor of its own.
 *
 * <p>Why a second kind of lock on the pid file: Java's {@code FileChannel.tryLock} takes a POSIX
 * record lock ({@code fcntl}), while the reference keepstore (and {@code flock(1)} in scripts)
 * take {@code flock} locks, and on Linux the two kinds do not see each other. Holding both makes
 * the pid file exclusive against either kind of holder. Where native calls are unavailable
 * (not Linux, or JNA cannot load), only the POSIX lock is taken.
 */
final class BsdFileLock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BsdFileLock.class);

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000; // the same on x86-64 and arm64
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int EWOULDBLOCK = 11;

    private static final boolean AVAILABLE = loadNative();

    /** Another process holds a {@code flock} lock on the file. */
    static final class HeldElsewhere extends Exception {
        HeldElsewhere() {
            super("locked by another process (flock)");
        }
    }

    private final int fd;

    private BsdFileLock(int fd) {
        this.fd = fd;
    }

    /**
     * Takes the lock without waiting.
     *
     * @return the lock, or null when it cannot be taken on this system (or the file cannot be
     *         opened for it); the caller then relies on its other lock alone
     * @throws HeldElsewhere if another open of the file holds a {@code flock} lock
     */
    static BsdFileLock tryLock(Path file) throws HeldElsewhere {
        if (!AVAILABLE) {
            return null;
        }
        int fd = Libc.open(file.toString(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            log.debug("flock on {} not taken: open failed (errno {})", file, Native.getLastError());
            return null;
        }
        if (Libc.flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int errno = Native.getLastError();
            Libc.close(fd);
            if (errno == EWOULDBLOCK) {
                throw new HeldElsewhere();
            }
            log.debug("flock on {} not taken (errno {})", file, errno);
            return null;
        }
        return new BsdFileLock(fd);
    }

    /** Releases the lock (closing its descriptor). */
    @Override
    public void close() {
        Libc.close(fd);
    }

    private static boolean loadNative() {
        if (!Platform.isLinux()) {
            return false;
        }
        try {
            Native.register(Libc.class, Platform.C_LIBRARY_NAME);
            return true;
        } catch (LinkageError | RuntimeException e) {
            log.debug("flock unavailable ({}); the pid file gets a POSIX lock only", e.toString());
            return false;
        }
    }

    /** The C library's functions, bound directly. */
    private static final class Libc {
        static native int open(String path, int flags);

        static native int flock(int fd, int operation);

        static native int close(int fd);
    }
}
