package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.keepstore.core.testing.MutableClock;

class MemoryVolumeTest {
    private static final String HASH = "acbd18db4cc2f85cedef654fccc4a4d8"; // md5("foo")
    private static final byte[] FOO = "foo".getBytes(StandardCharsets.US_ASCII);

    private final MutableClock clock = new MutableClock();

    private MemoryVolume volume(Duration trashLifetime) {
        return new MemoryVolume("mem-test", new VolumeContext(clock, trashLifetime, Duration.ofDays(14), VolumeMetrics.NONE));
    }

    private static byte[] read(Volume v, String hash) throws IOException {
        try (StoredBlock b = v.open(hash)) {
            byte[] data = b.stream().readAllBytes();
            assertEquals(b.size(), data.length);
            return data;
        }
    }

    @Test
    void writeReadTouchMtime() throws IOException {
        MemoryVolume v = volume(Duration.ZERO);
        assertThrows(BlockNotFoundException.class, () -> v.open(HASH));
        v.write(HASH, ByteBuffer.wrap(FOO));
        assertArrayEquals(FOO, read(v, HASH));
        assertEquals(clock.nanos(), v.mtimeNanos(HASH));
        clock.advance(Duration.ofSeconds(5));
        v.touch(HASH);
        assertEquals(clock.nanos(), v.mtimeNanos(HASH));
        assertThrows(BlockNotFoundException.class, () -> v.touch("00000000000000000000000000000000"));
    }

    @Test
    void writeCopiesTheCallersBuffer() throws IOException {
        MemoryVolume v = volume(Duration.ZERO);
        byte[] buf = FOO.clone();
        v.write(HASH, ByteBuffer.wrap(buf));
        buf[0] = 'x';
        assertArrayEquals(FOO, read(v, HASH));
    }

    @Test
    void trashWithZeroLifetimeDeletes() throws IOException {
        MemoryVolume v = volume(Duration.ZERO);
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.trash(HASH);
        assertFalse(v.contains(HASH));
        assertThrows(BlockNotFoundException.class, () -> v.untrash(HASH));
    }

    @Test
    void trashUntrashAndEmptyTrash() throws IOException {
        MemoryVolume v = volume(Duration.ofHours(1));
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.trash(HASH);
        assertThrows(BlockNotFoundException.class, () -> v.open(HASH));
        assertThrows(BlockNotFoundException.class, () -> v.trash(HASH));
        v.untrash(HASH);
        assertArrayEquals(FOO, read(v, HASH));
        assertEquals(0, v.trashedCopies(HASH));

        v.trash(HASH);
        clock.advance(Duration.ofMinutes(59));
        assertEquals(new EmptyTrashResult(0, 0, 1, 3), v.emptyTrash());
        clock.advance(Duration.ofMinutes(1));
        assertEquals(new EmptyTrashResult(1, 3, 0, 0), v.emptyTrash());
        assertThrows(BlockNotFoundException.class, () -> v.untrash(HASH));
    }

    @Test
    void untrashRestoresTheNewestCopy() throws IOException {
        MemoryVolume v = volume(Duration.ofHours(1));
        v.putRaw(HASH, "old".getBytes(StandardCharsets.US_ASCII));
        v.trash(HASH);
        clock.advance(Duration.ofSeconds(10));
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.trash(HASH);
        assertEquals(2, v.trashedCopies(HASH));
        v.untrash(HASH);
        assertArrayEquals(FOO, read(v, HASH));
        assertEquals(1, v.trashedCopies(HASH));
    }

    @Test
    void indexByPrefix() throws IOException {
        MemoryVolume v = volume(Duration.ZERO);
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.write(Locator.EMPTY_BLOCK_HASH, ByteBuffer.allocate(0));
        Map<String, Long> seen = new HashMap<>();
        v.index("", (h, size, mtime) -> seen.put(h, size));
        assertEquals(Map.of(HASH, 3L, Locator.EMPTY_BLOCK_HASH, 0L), seen);
        seen.clear();
        v.index("acb", (h, size, mtime) -> seen.put(h, size));
        assertEquals(Map.of(HASH, 3L), seen);
    }

    @Test
    void hooks() throws IOException {
        MemoryVolume v = volume(Duration.ZERO);
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.corrupt(HASH);
        assertFalse(java.util.Arrays.equals(FOO, read(v, HASH)));

        v.setCapacity(2);
        assertThrows(VolumeFullException.class, () -> v.write(HASH, ByteBuffer.wrap(FOO)));
        v.setCapacity(Long.MAX_VALUE);

        IOException broken = new IOException("disk on fire");
        v.failWith(broken);
        assertEquals(broken, assertThrows(IOException.class, () -> v.open(HASH)));
        v.failWith(null);
        assertTrue(v.contains(HASH));
    }

    @Test
    void statusCountsLiveBytes() throws IOException {
        MemoryVolume v = volume(Duration.ofHours(1));
        assertEquals(new VolumeStatus("memory", "mem-test", -1, 0), v.status());
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.write(HASH, ByteBuffer.wrap(FOO));
        v.putRaw(Locator.EMPTY_BLOCK_HASH, new byte[0]);
        assertEquals(3, v.status().bytesUsed());
        v.setCapacity(10);
        assertEquals(7, v.status().bytesFree());
        v.trash(HASH);
        assertEquals(0, v.status().bytesUsed());
        v.untrash(HASH);
        assertEquals(3, v.status().bytesUsed());
    }

    @Test
    void registeredAsMemoryDriver() throws IOException {
        Volume v = VolumeDriver.forName("Memory").create(Map.of("DeviceID", "dev1"), VolumeContext.defaults());
        assertTrue(v instanceof MemoryVolume);
        assertEquals("dev1", v.deviceId());
    }
}
