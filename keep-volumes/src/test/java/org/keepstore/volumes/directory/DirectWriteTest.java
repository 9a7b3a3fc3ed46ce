package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BufferPool;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.VolumeContext;

/**
 * Large blocks go to disk and come back with direct I/O: whatever their length (aligned or not)
 * and whatever buffer holds them (heap, aligned direct as the pool's, unaligned direct), exactly
 * their bytes are stored and read; and on a filesystem without direct I/O the volume still
 * writes and reads them.
 */
class DirectWriteTest {

    @Test
    void largeBlocksOfAnyLengthAreStoredExactly(@TempDir Path dir) throws Exception {
        DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        int[] sizes = {DirectWriter.MIN_DIRECT_SIZE, DirectWriter.MIN_DIRECT_SIZE + 1, 3 * 1024 * 1024 + 123,
            64 * 1024 * 1024};
        for (int i = 0; i < sizes.length; i++) {
            assertRoundTrip(volume, sizes[i], i);
        }
    }

    @Test
    void filesystemsWithoutDirectIoStillGetTheBlock() throws Exception {
        Path shm = Path.of("/dev/shm");
        Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        Path dir = Files.createTempDirectory(base, "direct-write-test");
        try {
            DirectoryVolume volume = new DirectoryVolume(dir, VolumeContext.defaults());
            assertRoundTrip(volume, 2 * 1024 * 1024 + 7, 10);
            assertRoundTrip(volume, 2 * 1024 * 1024 + 9, 11);
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void assertRoundTrip(DirectoryVolume volume, int size, int seed) throws Exception {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        String hash = String.format("%032x", seed + 1);
        // A buffer whose content starts past its array's start, as a slice of a buffer may.
        byte[] backing = new byte[size + 5];
        System.arraycopy(data, 0, backing, 5, size);
        assertStoredExactly(volume, hash, ByteBuffer.wrap(backing, 5, size), data);
        // An aligned direct buffer, as the engine's pool buffers are: written without staging.
        assertStoredExactly(volume, hash, alignedDirect(size).put(data).flip(), data);
        // A direct buffer that starts off the alignment: staged.
        ByteBuffer unaligned = ByteBuffer.allocateDirect(size + 3).position(3);
        unaligned.put(data).flip().position(3);
        assertStoredExactly(volume, hash, unaligned, data);
    }

    private static ByteBuffer alignedDirect(int size) {
        return ByteBuffer.allocateDirect(size + 2 * BufferPool.ALIGNMENT).alignedSlice(BufferPool.ALIGNMENT)
                .limit(size).slice();
    }

    private static void assertStoredExactly(DirectoryVolume volume, String hash, ByteBuffer written, byte[] data)
            throws Exception {
        volume.write(hash, written);
        int size = data.length;
        try (StoredBlock block = volume.open(hash); InputStream in = block.stream()) {
            assertEquals(size, block.size());
            assertArrayEquals(data, in.readAllBytes());
        }
        // Read as the engine does: as a channel, into an aligned direct buffer, 1 MiB at a time.
        ByteBuffer aligned = alignedDirect(size);
        try (StoredBlock block = volume.open(hash)) {
            ReadableByteChannel channel = (ReadableByteChannel) block.stream();
            while (aligned.hasRemaining()) {
                aligned.limit(Math.min(size, aligned.position() + (1 << 20)));
                assertTrue(channel.read(aligned) > 0);
                aligned.limit(size);
            }
            assertEquals(-1, channel.read(ByteBuffer.allocate(1)), "nothing after the block");
        }
        assertArrayEquals(data, bytes(aligned.flip()));
        // In one read of everything left, into a direct buffer off the alignment.
        ByteBuffer offset = ByteBuffer.allocateDirect(size + 1).position(1);
        try (StoredBlock block = volume.open(hash)) {
            ReadableByteChannel channel = (ReadableByteChannel) block.stream();
            while (offset.hasRemaining()) {
                assertTrue(channel.read(offset) > 0);
            }
        }
        assertArrayEquals(data, bytes(offset.position(1)));
        try (var files = Files.list(volume.root().resolve(hash.substring(0, 3)))) {
            assertEquals(0, files.filter(f -> f.getFileName().toString().startsWith("tmp")).count(),
                    "no temporary file is left behind");
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
