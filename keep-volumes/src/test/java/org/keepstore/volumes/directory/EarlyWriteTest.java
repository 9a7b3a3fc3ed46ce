package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keepstore.core.testing.TestData.randomBytes;
import static org.keepstore.core.testing.TestData.md5;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.testing.ReadBack;

/**
 * A large block is written to its volume while its body still arrives, yet appears only once
 * its MD5 matched and it is durable: a pending write is invisible until committed and leaves
 * nothing behind when abandoned, and through the engine a bad body stores nothing.
 */
class EarlyWriteTest {
    private static final int MIB = 1 << 20;

    @Test
    void aPendingWriteAppearsOnlyOnCommit(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        byte[] data = randomBytes(3 * MIB + 123, 1);
        String hash = md5(data);
        ByteBuffer buffer = new BufferPool(1, data.length).acquire().buffer().put(data).flip();
        try (Volume.PendingWrite pending = volume.startWrite(hash)) {
            assertNotNull(pending, "a directory volume with direct I/O writes incrementally");
            pending.append(buffer.slice(0, MIB));
            pending.append(buffer.slice(MIB, 2 * MIB));
            pending.append(buffer.slice(3 * MIB, 123));
            assertThrows(BlockNotFoundException.class, () -> volume.open(hash));
            assertEquals(List.of(), indexed(volume));
            pending.commit();
        }
        assertArrayEquals(data, read(volume, hash));
        assertEquals(List.of(hash + "+" + data.length), indexed(volume));
        assertEquals(0, tempFiles(dir), "no temporary file is left behind");
    }

    @Test
    void anAbandonedPendingWriteLeavesNothing(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        byte[] data = randomBytes(2 * MIB, 2);
        String hash = md5(data);
        try (Volume.PendingWrite pending = volume.startWrite(hash)) {
            pending.append(ByteBuffer.allocateDirect(MIB).put(data, 0, MIB).flip());
        }
        assertThrows(BlockNotFoundException.class, () -> volume.open(hash));
        assertEquals(0, tempFiles(dir));
    }

    @Test
    void aSerializedVolumeWritesWholeBlocksOnly(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, true, VolumeContext.defaults());
        assertEquals(null, volume.startWrite(md5(new byte[1])));
    }

    @Test
    void withDirectIoOffTheVolumeWritesWholeBlocksThroughThePageCache(@TempDir Path dir) throws Exception {
        Volume volume = new DirectoryVolumeDriver().create(
                java.util.Map.of("Root", dir.toString(), "DirectIO", false), VolumeContext.defaults());
        assertEquals(null, volume.startWrite(md5(new byte[1])));
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor("buffered"), volume)), new BufferPool(1),
                KeepStore.Options.defaults())) {
            byte[] data = randomBytes(5 * MIB + 3, 5);
            String hash = md5(data);
            store.write(hash, new ByteArrayInputStream(data), data.length, Set.of());
            assertArrayEquals(data, ReadBack.block(store, hash));
        }
        assertEquals(0, tempFiles(dir));
    }

    @Test
    void theEngineStoresLargeBodiesExactlyAndBadOnesNowhere(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        BufferPool pool = new BufferPool(2);
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor("early"), volume)), pool,
                KeepStore.Options.defaults())) {
            for (int size : new int[] {5 * MIB + 7, 4 * MIB, 64 * MIB}) {
                byte[] data = randomBytes(size, size);
                String hash = md5(data);
                store.write(hash, new ByteArrayInputStream(data), size, Set.of());
                assertArrayEquals(data, ReadBack.block(store, hash));
                // The same block again: the copy is found and touched, nothing else is left.
                store.write(hash, Channels.newChannel(new ByteArrayInputStream(data)), -1, Set.of());
                assertArrayEquals(data, ReadBack.block(store, hash));
            }
            byte[] data = randomBytes(6 * MIB, 9);
            String wrongHash = md5(randomBytes(10, 10));
            KeepException mismatch = assertThrows(KeepException.class,
                    () -> store.write(wrongHash, new ByteArrayInputStream(data), data.length, Set.of()));
            assertEquals(400, mismatch.status());
            assertThrows(BlockNotFoundException.class, () -> volume.open(wrongHash));
            String hash = md5(data);
            KeepException shortBody = assertThrows(KeepException.class,
                    () -> store.write(hash, new ByteArrayInputStream(data, 0, 5 * MIB), data.length, Set.of()));
            assertEquals(400, shortBody.status());
            assertThrows(BlockNotFoundException.class, () -> volume.open(hash));
            assertEquals(0, tempFiles(dir), "no temporary file is left behind");
            assertEquals(0, pool.inUse());
        }
    }

    private static byte[] read(DirectoryVolume volume, String hash) throws IOException {
        try (StoredBlock block = volume.open(hash); InputStream in = block.stream()) {
            return in.readAllBytes();
        }
    }

    private static List<String> indexed(DirectoryVolume volume) throws IOException {
        List<String> lines = new java.util.ArrayList<>();
        volume.index("", (hash, size, mtime) -> lines.add(hash + "+" + size));
        return lines;
    }

    private static long tempFiles(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.getFileName().toString().startsWith("tmp")).count();
        }
    }
}
