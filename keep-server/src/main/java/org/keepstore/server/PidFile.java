package org.keepstore.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.keepstore.volumes.directory.Flock;

/**
 * The {@code -pid} file: holds this process's id and an exclusive lock for as long as the server
 * runs, so a second server pointed at the same file refuses to start and {@code fuser -k FILE}
 * finds the owner. Removed on a clean exit.
 *
 * <p>The lock is taken twice, as a POSIX record lock and as a {@code flock} lock (see
 * {@link Flock}), so that another server of this kind, the reference keepstore and
 * {@code flock -n FILE} in a script all see it.
 */
final class PidFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;
    /** The flock lock, or null where it cannot be taken on this system. */
    private final Flock flock;

    private PidFile(Path path, FileChannel channel, FileLock lock, Flock flock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
        this.flock = flock;
    }

    /** Creates (or takes over) the file, locks it and writes the pid; fails if another process holds it. */
    static PidFile acquire(Path path) throws StartupException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StartupException("-pid " + path + ": cannot open the pid file (" + e.getMessage() + ")");
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new StartupException("-pid " + path + ": another keepstore process holds the lock on this pid file");
        }
        Flock flock;
        try {
            flock = Flock.tryLock(path);
        } catch (Flock.HeldElsewhere e) {
            closeQuietly(channel);
            throw new StartupException("-pid " + path + ": another process holds the lock on this pid file (flock)");
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
            channel.force(true);
        } catch (IOException e) {
            if (flock != null) {
                flock.close();
            }
            closeQuietly(channel);
            throw new StartupException("-pid " + path + ": cannot write the pid file (" + e.getMessage() + ")");
        }
        return new PidFile(path, channel, lock, flock);
    }

    /** Removes the file, then releases the lock. */
    @Override
    public void close() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // Leave it; the next start takes it over because nobody holds the lock.
        }
        if (flock != null) {
            flock.close();
        }
        try {
            lock.release();
        } catch (IOException e) {
            // Closing the channel below releases it anyway.
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing more to do.
        }
    }
}
