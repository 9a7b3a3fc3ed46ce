package org.keepstore.volumes.directory;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive {@code flock(2)} lock on a file, held through a descriptor of its own.
 *
 * <p>Why {@code flock} and not Java's {@code FileChannel.lock}: the JDK takes POSIX record locks
 * ({@code fcntl}), while the reference keepstore (and {@code flock(1)} in scripts) take
 * {@code flock} locks, and on Linux the two kinds do not see each other. The directory volume
 * locks a block file this way while it touches it or decides to trash it, exactly as the
 * reference does, so that a PUT in one process and a trash in another (this server or the
 * reference one, on the same directory) cannot interleave. The server's pid file is locked this
 * way too.
 *
 * <p>Locks are per open file description: two opens of one file exclude each other even within
 * one process. Where native calls are unavailable (not Linux, or JNA cannot load) no lock is
 * taken and the factory methods return null, which {@code try}-with-resources accepts.
 */
public final class Flock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Flock.class);

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000; // the same on x86-64 and arm64
    /** Opening a FIFO for reading would otherwise wait for a writer, forever. */
    private static final int O_NONBLOCK = 0x800; // the same on x86-64 and arm64
    private static final int OPEN_FLAGS = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int EINTR = 4;
    private static final int EWOULDBLOCK = 11;

    private static final boolean AVAILABLE = loadNative();

    /** Another open of the file holds a {@code flock} lock on it. */
    public static final class HeldElsewhere extends Exception {
        HeldElsewhere() {
            super("locked by another process (flock)");
        }
    }

    private final int fd;

    private Flock(int fd) {
        this.fd = fd;
    }

    /** Whether locks can be taken in this JVM at all. */
    public static boolean isAvailable() {
        return AVAILABLE;
    }

    /**
     * Takes the lock without waiting.
     *
     * @return the lock, or null when it cannot be taken on this system (or the file cannot be
     *         opened for it); the caller then relies on whatever other lock it has
     * @throws HeldElsewhere if another open of the file holds a {@code flock} lock
     */
    public static Flock tryLock(Path file) throws HeldElsewhere {
        if (!AVAILABLE) {
            return null;
        }
        int fd = Libc.open(file.toString(), OPEN_FLAGS);
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
        return new Flock(fd);
    }

    /**
     * Takes the lock, waiting as long as another holder keeps it.
     *
     * @return the lock, or null when locks are unavailable on this system
     * @throws NoSuchFileException if the file does not exist
     * @throws IOException         if it cannot be opened or locked, or is not a regular file (a
     *                             stray FIFO or device where a block should be)
     */
    public static Flock lock(Path file) throws IOException {
        if (!AVAILABLE) {
            return null;
        }
        int fd = Libc.open(file.toString(), OPEN_FLAGS);
        if (fd < 0) {
            int errno = Native.getLastError();
            if (errno == ENOENT) {
                throw new NoSuchFileException(file.toString());
            }
            if (errno == EACCES) {
                throw new AccessDeniedException(file.toString(), null, "cannot open it to lock it");
            }
            throw new IOException("open " + file + " to lock it: errno " + errno);
        }
        if (!isRegularFile(fd)) {
            Libc.close(fd);
            throw new IOException("not a regular file: " + file);
        }
        while (Libc.flock(fd, LOCK_EX) != 0) {
            int errno = Native.getLastError();
            if (errno != EINTR) {
                Libc.close(fd);
                throw new IOException("flock " + file + ": errno " + errno);
            }
        }
        return new Flock(fd);
    }

    /**
     * The identity ({@link BasicFileAttributes#fileKey()}: device and inode) of the file this lock
     * holds, which may no longer be the file its path names: another process may have renamed a
     * file over that path. Null if it cannot be told (no {@code /proc}).
     */
    public Object lockedFileKey() {
        try {
            return Files.readAttributes(Path.of("/proc/self/fd/" + fd), BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isRegularFile(int fd) {
        try {
            return Files.readAttributes(Path.of("/proc/self/fd/" + fd), BasicFileAttributes.class).isRegularFile();
        } catch (IOException e) {
            return true; // no /proc: cannot tell, and the open did not wait, so go ahead
        }
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
            log.debug("flock unavailable ({}); files are not locked against other processes", e.toString());
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
