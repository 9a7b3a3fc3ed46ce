package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;

/**
 * Touch and trash on a directory volume take a {@code flock} lock on the block file, as the
 * reference keepstore does, so that another process working on the same directory (a second
 * server, or the reference keepstore) cannot slip a touch between a trash's mtime check and
 * its rename. Here the other process is played by a second open of the file in this JVM: flock
 * locks belong to the open file, so the two exclude each other as two processes would.
 */
class BlockFileLockTest {
    private static final Instant NOW = Instant.ofEpochSecond(1_700_000_000L);
    private static final Instant LONG_AGO = NOW.minus(Duration.ofDays(30));

    @TempDir
    Path root;

    private DirectoryVolume volume;
    private String hash;
    private Path file;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Flock.isAvailable(), "flock needs Linux and JNA");
        assumeTrue(flockSyscallNumber() > 0, "the flock system call number is known on this architecture");
        volume = new DirectoryVolume(root, new VolumeContext(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofDays(7),
                Duration.ofDays(14), VolumeMetrics.NONE));
        byte[] data = "locked block".getBytes(StandardCharsets.UTF_8);
        hash = md5(data);
        file = Files.createDirectories(root.resolve(hash.substring(0, 3))).resolve(hash);
        Files.write(file, data);
        Files.setLastModifiedTime(file, FileTime.from(LONG_AGO));
    }

    @Test
    void aTrashWaitsForATouchInAnotherProcessAndThenKeepsTheBlock() throws Exception {
        long oldMtime = nanos(LONG_AGO);
        FutureTask<Boolean> trash = new FutureTask<>(() -> volume.trashIfMtime(hash, m -> m == oldMtime));
        try (Flock otherProcess = Flock.lock(file)) {
            assertNotNull(otherProcess);
            new Thread(trash, "trash").start();
            awaitSomeThreadBlockedInFlock();
            // The other process's touch, made while it holds the lock: a PUT of this block.
            Files.setLastModifiedTime(file, FileTime.from(NOW));
        }
        assertFalse(trash.get(), "the trash saw the new mtime and refused");
        assertTrue(Files.isRegularFile(file), "the block is still in place");
        assertEquals(0, trashFiles());
    }

    @Test
    void aTouchWaitsForATrashInAnotherProcessAndThenReportsTheBlockGone() throws Exception {
        FutureTask<Void> touch = new FutureTask<>(() -> {
            volume.touch(hash);
            return null;
        });
        try (Flock otherProcess = Flock.lock(file)) {
            assertNotNull(otherProcess);
            new Thread(touch, "touch").start();
            awaitSomeThreadBlockedInFlock();
            // The other process's trash, made while it holds the lock.
            Files.move(file, file.resolveSibling(hash + ".trash.1700604800"));
        }
        ExecutionException e = assertThrows(ExecutionException.class, touch::get);
        // So the PUT that touched writes a new copy instead of counting the trashed one.
        assertInstanceOf(BlockNotFoundException.class, e.getCause());
    }

    @Test
    void anUntrashWaitsForATrashInAnotherProcessSoTheRestoredBlockStays() throws Exception {
        // The block is live (old) and in trash too. Another process has decided to trash the
        // live copy and holds its lock; an untrash here must not slip its restored file under
        // that process's rename, or the block it reports restored would be trashed at once.
        Path trashed = file.resolveSibling(hash + ".trash.1700300000");
        Files.copy(file, trashed);
        FutureTask<Void> untrash = new FutureTask<>(() -> {
            volume.untrash(hash);
            return null;
        });
        try (Flock otherProcess = Flock.lock(file)) {
            assertNotNull(otherProcess);
            new Thread(untrash, "untrash").start();
            awaitSomeThreadBlockedInFlock();
            // The other process's trash of the copy it checked, made while it holds the lock.
            Files.move(file, file.resolveSibling(hash + ".trash.1700604800"));
        }
        untrash.get();
        assertTrue(Files.isRegularFile(file), "the restored block is in place");
        assertEquals(nanos(NOW), volume.mtimeNanos(hash));
    }

    @Test
    void aTrashThatWaitedWhileAnotherProcessReplacedTheFileLocksTheNewFile() throws Exception {
        long oldMtime = nanos(LONG_AGO);
        boolean[] touchedInBetween = {false};
        // The check runs between the mtime read and the rename: another process trying to touch
        // the block then must find it locked, or it could touch a file that is trashed next.
        FutureTask<Boolean> trash = new FutureTask<>(() -> volume.trashIfMtime(hash, m -> {
            try (Flock other = Flock.tryLock(file)) {
                Files.setLastModifiedTime(file, FileTime.from(NOW));
                touchedInBetween[0] = true;
            } catch (Flock.HeldElsewhere expected) {
                // the trash holds the lock of the file it checked
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return m == oldMtime;
        }));
        Path replacement = file.resolveSibling("tmp-replacement");
        Files.writeString(replacement, "locked block");
        Files.setLastModifiedTime(replacement, FileTime.from(LONG_AGO));
        try (Flock otherProcess = Flock.lock(file)) {
            assertNotNull(otherProcess);
            new Thread(trash, "trash").start();
            awaitSomeThreadBlockedInFlock();
            // Another process renames a file over the path while the trash waits for the lock
            // of the file that was there.
            Files.move(replacement, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        assertTrue(trash.get());
        assertFalse(touchedInBetween[0], "a touch came between the trash's check and its rename");
    }

    @Test
    void aBlockPathThatIsASymlinkIsTrashedLikeAFile() throws Exception {
        // Not a layout this server writes, but one a trash must not loop on: the lock follows
        // the link, and so must the check of which file it holds.
        Path elsewhere = root.resolve("elsewhere");
        Files.move(file, elsewhere);
        Files.createSymbolicLink(file, elsewhere);
        assertTrue(volume.trashIfMtime(hash, m -> m == nanos(LONG_AGO)));
        assertFalse(Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(1, trashFiles());
    }

    @Test
    // A hang here is the failure: opening a FIFO to read waits for a writer, uninterruptibly.
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifoWhereABlockOrATemporaryFileShouldBeIsAnErrorNotAHang() throws Exception {
        Files.delete(file);
        mkfifo(file);
        IOException e = assertThrows(IOException.class, () -> volume.trashIfMtime(hash, m -> true));
        assertFalse(e instanceof BlockNotFoundException, e.toString());
        assertThrows(IOException.class, () -> volume.touch(hash));
        assertTrue(Files.exists(file), "left where it is");

        // A stray FIFO named like a temporary file does not stop the volume from opening.
        Path strayTemp = file.resolveSibling("tmp" + hash + "123");
        mkfifo(strayTemp);
        new DirectoryVolume(root, new VolumeContext(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofDays(7),
                Duration.ofDays(14), VolumeMetrics.NONE));
        assertFalse(Files.exists(strayTemp), "removed like any leftover");
    }

    private static void mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assumeTrue(p.waitFor() == 0, "mkfifo is available");
    }

    @Test
    void withoutAnotherHolderTrashAndTouchProceed() throws Exception {
        volume.touch(hash);
        assertEquals(nanos(NOW), volume.mtimeNanos(hash));
        assertFalse(volume.trashIfMtime(hash, m -> m != nanos(NOW)));
        assertTrue(volume.trashIfMtime(hash, m -> m == nanos(NOW)));
        assertFalse(Files.exists(file));
        assertEquals(1, trashFiles());
        assertThrows(BlockNotFoundException.class,
                () -> volume.trashIfMtime(hash, m -> true));
    }

    private long trashFiles() throws IOException {
        long n = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(file.getParent(), hash + ".trash.*")) {
            for (Path ignored : entries) {
                n++;
            }
        }
        return n;
    }

    /**
     * Waits until a thread of this process sits in the flock system call, which is where the
     * volume's call must be while the other holder keeps the lock.
     */
    private static void awaitSomeThreadBlockedInFlock() throws Exception {
        String prefix = flockSyscallNumber() + " ";
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path task : tasks) {
                    try {
                        if (Files.readString(task.resolve("syscall")).startsWith(prefix)) {
                            return;
                        }
                    } catch (IOException gone) {
                        // the thread ended meanwhile
                    }
                }
            }
            Thread.sleep(5);
        }
        fail("no thread ever waited in flock: the volume did not lock the block file");
    }

    /** The flock system call's number: 73 on x86-64, 32 on arm64 (the generic table); else 0. */
    private static int flockSyscallNumber() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> 73;
            case "aarch64" -> 32;
            default -> 0;
        };
    }

    private static long nanos(Instant i) {
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }
}
