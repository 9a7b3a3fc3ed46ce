package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.keepstore.core.testing.TestData.randomBytes;
import static org.keepstore.core.testing.TestData.md5;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;

/**
 * A directory volume reads a small block without waiting ({@link DirectoryVolume#readIfAtHand})
 * exactly when the whole file is in the page cache and is an ordinary block file; everything
 * else is left to the usual read, which reports it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PageCacheReadTest {
    private static final int MIB = 1 << 20;

    /** This machine's kind: Linux 5.12 or later on x86-64 or arm64, where the reader must work. */
    private static boolean supported() {
        String arch = System.getProperty("os.arch");
        String[] version = System.getProperty("os.version").split("[.-]");
        int major = Integer.parseInt(version[0]);
        int minor = Integer.parseInt(version[1]);
        return System.getProperty("os.name").equals("Linux")
                && (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))
                && (major > 5 || (major == 5 && minor >= 12));
    }

    @Test
    void aJustWrittenSmallBlockIsAtHand(@TempDir Path dir) throws Exception {
        assumeTrue(supported());
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        // 8 KiB ends on a page boundary, where the reader makes sure the file really ends.
        for (int size : new int[] {0, 1, 1000, 4096, 8192, 65536}) {
            byte[] data = randomBytes(size, size);
            String hash = md5(data);
            volume.write(hash, ByteBuffer.wrap(data));
            ByteBuffer into = ByteBuffer.allocate(size);
            assertEquals(size, volume.readIfAtHand(hash, into), "size " + size);
            assertArrayEquals(data, into.array());
        }
    }

    @Test
    void aMissingBlockIsAbsent(@TempDir Path dir) throws Exception {
        assumeTrue(supported());
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        String hash = md5(new byte[] {1});
        // A name never looked up is not in the kernel's caches yet (the lookup might need the
        // disk); once the usual read found it missing, its absence is known at once.
        org.junit.jupiter.api.Assertions.assertThrows(BlockNotFoundException.class, () -> volume.open(hash));
        assertEquals(Volume.ABSENT, volume.readIfAtHand(hash, ByteBuffer.allocate(10)));
    }

    @Test
    void aFileLongerThanTheRoomIsNotAtHand(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        for (int size : new int[] {1000, 4096}) {
            byte[] data = randomBytes(size, 3);
            String hash = md5(data);
            volume.write(hash, ByteBuffer.wrap(data));
            ByteBuffer into = ByteBuffer.allocate(size - 1);
            assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(hash, into));
            assertEquals(0, into.position());
        }
    }

    @Test
    void oddFilesAreLeftToTheUsualRead(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        byte[] data = randomBytes(100, 4);
        Path target = Files.write(dir.resolve("elsewhere"), data);

        String linked = md5(data);
        Files.createDirectories(dir.resolve(linked.substring(0, 3)));
        Files.createSymbolicLink(dir.resolve(linked.substring(0, 3)).resolve(linked), target);
        assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(linked, ByteBuffer.allocate(100)), "a symlink");

        String directory = md5(new byte[] {5});
        Files.createDirectories(dir.resolve(directory.substring(0, 3)).resolve(directory));
        assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(directory, ByteBuffer.allocate(100)), "a directory");

        String fifo = md5(new byte[] {6});
        Files.createDirectories(dir.resolve(fifo.substring(0, 3)));
        Path fifoPath = dir.resolve(fifo.substring(0, 3)).resolve(fifo);
        Process mkfifo = new ProcessBuilder("mkfifo", fifoPath.toString()).start();
        assumeTrue(mkfifo.waitFor() == 0);
        // Opening a FIFO without a writer would wait forever; this must answer at once.
        assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(fifo, ByteBuffer.allocate(100)), "a FIFO");
    }

    @Test
    void aBlockWrittenPastThePageCacheIsNotAtHand(@TempDir Path dir) throws Exception {
        assumeTrue(supported());
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        byte[] data = randomBytes(MIB, 5); // the smallest block written with direct I/O, the most read this way
        String hash = md5(data);
        ByteBuffer buffer = new BufferPool(1, data.length).acquire().buffer().put(data).flip();
        volume.write(hash, buffer);
        ByteBuffer into = ByteBuffer.allocate(MIB);
        int length = volume.readIfAtHand(hash, into);
        // Written with direct I/O it is on the disk only; on a filesystem without direct I/O
        // (tmpfs) it went through the page cache and is at hand.
        if (length != data.length) {
            assertEquals(Volume.NOT_AT_HAND, length);
            assertEquals(0, into.position());
        }
        try (StoredBlock block = volume.open(hash); InputStream in = block.stream()) {
            assertArrayEquals(data, in.readAllBytes(), "the usual read gets it");
        }
    }

    @Test
    void atMostOneMebibyteIsReadThisWay(@TempDir Path dir) throws Exception {
        assumeTrue(supported());
        DirectoryVolume volume = new DirectoryVolume(dir, false, false, VolumeContext.defaults()); // page cache only
        byte[] data = randomBytes(MIB, 8);
        String hash = md5(data);
        volume.write(hash, ByteBuffer.wrap(data));
        ByteBuffer into = ByteBuffer.allocate(MIB);
        assertEquals(MIB, volume.readIfAtHand(hash, into));
        assertArrayEquals(data, into.array());
        assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(hash, ByteBuffer.allocate(MIB + 1)));
    }

    @Test
    void aSerializedVolumeNeverReadsThisWay(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, true, VolumeContext.defaults());
        byte[] data = randomBytes(100, 6);
        String hash = md5(data);
        volume.write(hash, ByteBuffer.wrap(data));
        assertEquals(Volume.NOT_AT_HAND, volume.readIfAtHand(hash, ByteBuffer.allocate(100)));
    }

    @Test
    void aCorruptFileIsNeverGivenAndTheUsualReadReportsIt(@TempDir Path dir) throws Exception {
        assumeTrue(supported());
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        KeepStore store = new KeepStore(List.of(Mount.of("zzzzz-nyw5e-000000000000001", volume)),
                new BufferPool(1), KeepStore.Options.defaults());
        try (store) {
            byte[] data = randomBytes(1000, 7);
            String hash = md5(data);
            store.write(hash, ByteBuffer.wrap(data), java.util.Set.of(), null);
            ByteBuffer copy = store.readIfAtHand(hash, data.length);
            assertArrayEquals(data, Arrays.copyOfRange(copy.array(), 0, copy.limit()));

            byte[] corrupt = data.clone();
            corrupt[500] ^= 1;
            Files.write(dir.resolve(hash.substring(0, 3)).resolve(hash), corrupt);
            assertNull(store.readIfAtHand(hash, data.length));
            KeepException e = org.junit.jupiter.api.Assertions.assertThrows(KeepException.class,
                    () -> store.verify(hash));
            assertEquals(502, e.status());
        }
    }
}
