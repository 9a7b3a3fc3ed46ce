package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.VolumeContext;

/**
 * Large blocks go to disk with direct I/O: whatever their length (aligned or not), exactly their
 * bytes are stored; and on a filesystem without direct I/O the volume still writes them.
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
        // A buffer whose content starts past its array's start, as a slice of a pool buffer may.
        byte[] backing = new byte[size + 5];
        System.arraycopy(data, 0, backing, 5, size);
        volume.write(hash, ByteBuffer.wrap(backing, 5, size));
        try (StoredBlock block = volume.open(hash); InputStream in = block.stream()) {
            assertEquals(size, block.size());
            assertArrayEquals(data, in.readAllBytes());
        }
        try (var files = Files.list(volume.root().resolve(hash.substring(0, 3)))) {
            assertEquals(0, files.filter(f -> f.getFileName().toString().startsWith("tmp")).count(),
                    "no temporary file is left behind");
        }
    }
}
