package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.KeepException;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.keepstore.core.VolumeFullException;
import org.keepstore.core.VolumeMetrics;

/**
 * Trees laid out by hand exactly as the reference keepstore writes them, read and maintained by
 * {@link DirectoryVolume}; and the files DirectoryVolume itself leaves, checked name by name.
 */
class DirectoryVolumeLayoutTest {
    /** A "now" with nanoseconds, to see that they survive. */
    private static final Instant NOW = Instant.ofEpochSecond(1_700_000_000L, 123_456_789L);

    @TempDir
    Path root;

    private VolumeContext context(Instant now, Duration trashLifetime) {
        return new VolumeContext(Clock.fixed(now, ZoneOffset.UTC), trashLifetime, Duration.ofDays(14),
                VolumeMetrics.NONE);
    }

    private DirectoryVolume open(Instant now, Duration trashLifetime) throws IOException {
        return new DirectoryVolume(root, context(now, trashLifetime));
    }

    /** Writes a block file as the reference server does, with the given mtime. */
    private String plantBlock(String content, Instant mtime) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        Path dir = Files.createDirectories(root.resolve(hash.substring(0, 3)));
        Path file = Files.write(dir.resolve(hash), data);
        Files.setLastModifiedTime(file, FileTime.from(mtime));
        return hash;
    }

    private Path plantTrash(String content, long deadline) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        Path dir = Files.createDirectories(root.resolve(hash.substring(0, 3)));
        return Files.write(dir.resolve(hash + ".trash." + deadline), data);
    }

    @Test
    void aBlockRenamedAwayWhileItIsOpenedIsServedOrMissingNeverAnError() throws Exception {
        // A trash or delete renames the file at any moment; an open that races it must either
        // serve the file it opened or find the block absent, never fail as if the disk did.
        String hash = plantBlock("renamed under the reader", NOW);
        Path file = root.resolve(hash.substring(0, 3)).resolve(hash);
        Path aside = file.resolveSibling(hash + ".trash.1");
        try (DirectoryVolume volume = open(NOW, Duration.ofDays(1))) {
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread renamer = new Thread(() -> {
                try {
                    while (!done.get()) {
                        Files.move(file, aside, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                        Files.move(aside, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            renamer.start();
            int served = 0;
            try {
                for (int i = 0; i < 20_000; i++) {
                    try (StoredBlock block = volume.open(hash)) {
                        assertEquals("renamed under the reader",
                                new String(block.stream().readAllBytes(), StandardCharsets.UTF_8));
                        served++;
                    } catch (BlockNotFoundException e) {
                        // renamed away before the open: absent, as it should be
                    }
                }
            } finally {
                done.set(true);
                renamer.join();
            }
            assertTrue(served > 0);
        }
    }

    @Test
    void servesAReferenceTreeAsIs() throws Exception {
        Instant mtime = Instant.ofEpochSecond(1_600_000_000L, 987_654_321L);
        String a = plantBlock("alpha", mtime);
        String b = plantBlock("beta", mtime.plusSeconds(5));
        try (DirectoryVolume v = open(NOW, Duration.ZERO)) {
            assertArrayEquals("alpha".getBytes(StandardCharsets.UTF_8), read(v, a));
            assertEquals(1_600_000_000_987_654_321L, v.mtimeNanos(a));
            List<String> lines = indexLines(v, "");
            assertEquals(List.of(a + "+5 1600000000987654321", b + "+4 1600000005987654321").stream().sorted().toList(),
                    lines);
            assertEquals(List.of(a + "+5 1600000000987654321"), indexLines(v, a.substring(0, 3)));
        }
    }

    @Test
    void writeLeavesExactlyTheReferenceFileWithTheClocksMtime() throws Exception {
        byte[] data = "gamma".getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        try (DirectoryVolume v = open(NOW, Duration.ZERO)) {
            v.write(hash, ByteBuffer.wrap(data));
        }
        Path file = root.resolve(hash.substring(0, 3)).resolve(hash);
        assertArrayEquals(data, Files.readAllBytes(file));
        assertEquals(NOW, Files.getLastModifiedTime(file).toInstant());
        assertEquals(List.of(hash.substring(0, 3)), names(root));
        assertEquals(List.of(hash), names(root.resolve(hash.substring(0, 3))));
    }

    @Test
    void trashRenamesWithTheDeadlineInUnixSeconds() throws Exception {
        String hash = plantBlock("delta", NOW.minusSeconds(100_000));
        try (DirectoryVolume v = open(NOW, Duration.ofHours(2))) {
            v.trash(hash);
        }
        long deadline = NOW.getEpochSecond() + 7200;
        assertEquals(List.of(hash + ".trash." + deadline), names(root.resolve(hash.substring(0, 3))));
    }

    @Test
    void emptyTrashDeletesExpiredTrashOnlyInsideBlockDirectories() throws Exception {
        long now = NOW.getEpochSecond();
        Path expired = plantTrash("expired", now - 1);
        Path dueNow = plantTrash("due now", now);
        Path pending = plantTrash("pending", now + 10);
        String live = plantBlock("live", NOW);
        // Things that are not trash of this volume, even if they look like it.
        Path rootLevel = Files.write(root.resolve(md5("x".getBytes()) + ".trash.1"), new byte[1]);
        Path otherDir = Files.createDirectories(root.resolve("lost+found"));
        Path inOtherDir = Files.write(otherDir.resolve(md5("y".getBytes()) + ".trash.1"), new byte[1]);
        Path upperDir = Files.createDirectories(root.resolve("ABC"));
        Path inUpperDir = Files.write(upperDir.resolve(md5("z".getBytes()) + ".trash.1"), new byte[1]);
        Path oddName = Files.write(pending.resolveSibling("notes.trash.1"), new byte[1]);
        Path directoryNamedLikeTrash = Files.createDirectory(pending.resolveSibling(md5("w".getBytes()) + ".trash.1"));

        try (DirectoryVolume v = open(NOW, Duration.ofDays(1))) {
            EmptyTrashResult r = v.emptyTrash();
            assertEquals(new EmptyTrashResult(2, "expired".length() + "due now".length(), 1, "pending".length()), r);
            assertFalse(Files.exists(expired));
            assertFalse(Files.exists(dueNow));
            for (Path kept : List.of(pending, rootLevel, inOtherDir, inUpperDir, oddName, directoryNamedLikeTrash)) {
                assertTrue(Files.exists(kept), kept + " must be left alone");
            }
            assertEquals(4, read(v, live).length);
        }
    }

    @Test
    void bytesReadCountAsInAndBytesWrittenAsOutAsTheReferenceCountsThem() throws Exception {
        org.keepstore.volumes.OperationCounter metrics = new org.keepstore.volumes.OperationCounter();
        DirectoryVolume v = new DirectoryVolume(root, new VolumeContext(Clock.fixed(NOW, ZoneOffset.UTC),
                Duration.ofDays(1), Duration.ofDays(14), metrics));
        byte[] data = "counted".getBytes(StandardCharsets.UTF_8);
        v.write(md5(data), ByteBuffer.wrap(data));
        assertEquals(data.length, metrics.bytes("out"));
        assertEquals(0, metrics.bytes("in"));
        read(v, md5(data));
        assertEquals(data.length, metrics.bytes("in"));
    }

    @Test
    void aBlockDirectoryThatIsASymlinkIsPartOfTheVolume() throws Exception {
        // An operator may move some block directories to another disk and link them back.
        String hash = plantBlock("moved elsewhere", NOW);
        Path trash = plantTrash("moved elsewhere", NOW.getEpochSecond() - 1);
        Path linked = root.resolve(hash.substring(0, 3));
        Path elsewhere = Files.createDirectories(root.getParent().resolve("elsewhere-" + root.getFileName()));
        Path moved = Files.move(linked, elsewhere.resolve(linked.getFileName()));
        Files.createSymbolicLink(linked, moved);
        try (DirectoryVolume v = open(NOW, Duration.ofDays(1))) {
            String line = hash + "+15 " + (NOW.getEpochSecond() * 1_000_000_000L + NOW.getNano());
            assertEquals(List.of(line), indexLines(v, ""), "the whole index lists it");
            assertEquals(List.of(line), indexLines(v, hash.substring(0, 2)));
            assertEquals(List.of(line), indexLines(v, hash.substring(0, 3)), "as a longer prefix does");
            assertEquals(1, v.emptyTrash().deletedBlocks());
            assertFalse(Files.exists(moved.resolve(trash.getFileName())));
        }
    }

    @Test
    void aBlockFileThatIsASymlinkIsServedAsTheIndexListsIt() throws Exception {
        String hash = plantBlock("linked file", NOW);
        Path file = root.resolve(hash.substring(0, 3)).resolve(hash);
        Path target = Files.move(file, root.getParent().resolve("target-" + root.getFileName()));
        Files.createSymbolicLink(file, target);
        try (DirectoryVolume v = open(NOW, Duration.ofDays(1))) {
            assertEquals(1, indexLines(v, "").size());
            assertArrayEquals("linked file".getBytes(StandardCharsets.UTF_8), read(v, hash));
            Files.delete(target); // dangling: absent, as the index then says too
            assertThrows(BlockNotFoundException.class, () -> v.open(hash));
            assertEquals(List.of(), indexLines(v, ""));
        }
    }

    @Test
    void untrashRestoresTheCopyWithTheLatestDeadline() throws Exception {
        long now = NOW.getEpochSecond();
        String hash = md5("same".getBytes());
        Path dir = Files.createDirectories(root.resolve(hash.substring(0, 3)));
        Files.write(dir.resolve(hash + ".trash." + (now + 100)), "older".getBytes());
        Files.write(dir.resolve(hash + ".trash." + (now + 900)), "newer".getBytes());
        Files.write(dir.resolve(hash + ".trash." + (now + 50)), "oldest".getBytes());
        try (DirectoryVolume v = open(NOW, Duration.ofDays(1))) {
            assertThrows(BlockNotFoundException.class, () -> v.open(hash));
            assertEquals(List.of(), indexLines(v, ""));
            v.untrash(hash);
            assertArrayEquals("newer".getBytes(), read(v, hash));
            assertEquals(NOW, Files.getLastModifiedTime(dir.resolve(hash)).toInstant());
            assertEquals(List.of(hash, hash + ".trash." + (now + 100), hash + ".trash." + (now + 50)).stream()
                    .sorted().toList(), names(dir));
        }
    }

    @Test
    void indexListsOnlyBlockFilesInBlockDirectories() throws Exception {
        String hash = plantBlock("epsilon", NOW);
        Path dir = root.resolve(hash.substring(0, 3));
        Files.write(dir.resolve(hash + ".trash.1"), new byte[3]);
        Files.write(dir.resolve("README"), new byte[3]);
        Files.write(dir.resolve(hash.toUpperCase()), new byte[3]);
        Files.write(dir.resolve(hash.substring(0, 31)), new byte[3]);
        Files.createDirectories(dir.resolve(md5("a directory".getBytes())));
        Path upper = Files.createDirectories(root.resolve(hash.substring(0, 3).toUpperCase() + "x"));
        Files.write(upper.resolve(md5("u".getBytes())), new byte[3]);
        Path wrongDir = Files.createDirectories(root.resolve("000"));
        try (DirectoryVolume v = open(NOW, Duration.ZERO)) {
            // A tmp file created while the volume is open (a write in progress).
            Files.write(dir.resolve("tmp" + hash + "4242"), new byte[3]);
            assertEquals(List.of(hash + "+7 " + nanos(NOW)), indexLines(v, ""));
            assertEquals(List.of(hash + "+7 " + nanos(NOW)), indexLines(v, hash));
            assertEquals(List.of(), indexLines(v, "000"));
            assertTrue(Files.isDirectory(wrongDir));
        }
    }

    @Test
    void leftoverTempFilesAreRemovedWhenTheVolumeOpens() throws Exception {
        String hash = plantBlock("zeta", NOW);
        Path dir = root.resolve(hash.substring(0, 3));
        Path goStyle = Files.write(dir.resolve("tmp" + hash + "381945527"), new byte[10]);
        Path other = Files.write(dir.resolve("tmp" + md5("other".getBytes()) + "1"), new byte[10]);
        Path unrelated = Files.write(dir.resolve("tmpnotes"), new byte[10]);
        try (DirectoryVolume v = open(NOW, Duration.ZERO)) {
            assertFalse(Files.exists(goStyle));
            assertFalse(Files.exists(other));
            assertTrue(Files.exists(unrelated), "only temp files of block writes are removed");
            assertEquals(4, read(v, hash).length);
        }
    }

    @Test
    void aTempFileOfAWriteInProgressElsewhereIsLeftAlone() throws Exception {
        assumeTrue(Flock.isAvailable(), "flock needs Linux and JNA");
        // Another volume over the same directory (here in this JVM; another process alike) is
        // writing a block while this one opens.
        try (DirectoryVolume writer = open(NOW, Duration.ZERO)) {
            byte[] data = new byte[1 << 20];
            String hash = md5(data);
            Volume.PendingWrite pending = writer.startWrite(hash);
            assumeTrue(pending != null, "writes while the data arrives need direct I/O here");
            pending.append(ByteBuffer.wrap(data, 0, 4096));
            Path temp;
            try (Stream<Path> files = Files.list(root.resolve(hash.substring(0, 3)))) {
                temp = files.filter(p -> p.getFileName().toString().startsWith("tmp")).findFirst().orElseThrow();
            }
            try (DirectoryVolume opened = open(NOW, Duration.ZERO)) {
                assertTrue(Files.exists(temp), "the write in progress keeps its temporary file");
            }
            pending.append(ByteBuffer.wrap(data, 4096, data.length - 4096));
            pending.commit();
            assertEquals(data.length, read(writer, hash).length);
        }
    }

    @Test
    void recentFullMarkerRefusesWritesForAnHour() throws Exception {
        long now = NOW.getEpochSecond();
        Files.createSymbolicLink(root.resolve("full"), Path.of(Long.toString(now - 3599)));
        byte[] data = "eta".getBytes();
        String hash = md5(data);
        try (DirectoryVolume v = open(NOW, Duration.ZERO)) {
            assertThrows(VolumeFullException.class, () -> v.write(hash, ByteBuffer.wrap(data)));
            assertFalse(Files.exists(root.resolve(hash.substring(0, 3))));
        }
        // An hour later the marker is stale and the free space decides.
        try (DirectoryVolume v = open(NOW.plusSeconds(2), Duration.ZERO)) {
            v.write(hash, ByteBuffer.wrap(data));
            assertArrayEquals(data, read(v, hash));
        }
    }

    /** {@code size} zero bytes but the first, so blocks made with different markers differ. */
    private static byte[] filler(int size, int marker) {
        byte[] data = new byte[size];
        data[0] = (byte) marker;
        return data;
    }

    @Test
    void lowFreeSpaceMarksTheVolumeFull() throws Exception {
        try (SmallFilesystem fs = SmallFilesystem.mount(root.resolve("small"), "size=80m")) {
            DirectoryVolume v = new DirectoryVolume(fs.dir, context(NOW, Duration.ZERO));
            byte[] first = filler(20 << 20, 1);
            String firstHash = md5(first);
            v.write(firstHash, ByteBuffer.wrap(first)); // 80 MiB free before: fine; 60 after
            byte[] second = new byte[1000];
            assertThrows(VolumeFullException.class, () -> v.write(md5(second), ByteBuffer.wrap(second)));
            Path marker = fs.dir.resolve("full");
            assertTrue(Files.isSymbolicLink(marker));
            assertEquals(Long.toString(NOW.getEpochSecond()), Files.readSymbolicLink(marker).toString());
            // Space freed: still full until the marker expires, then writes resume.
            v.trash(firstHash);
            assertThrows(VolumeFullException.class, () -> v.write(md5(second), ByteBuffer.wrap(second)));
            DirectoryVolume later = new DirectoryVolume(fs.dir, context(NOW.plus(Duration.ofHours(1)), Duration.ZERO));
            later.write(md5(second), ByteBuffer.wrap(second));
            assertArrayEquals(second, read(later, md5(second)));
        }
    }

    @Test
    void writesRunningOutOfSpaceTogetherDoNotMarkTheVolumeFullForAnHour() throws Exception {
        try (SmallFilesystem fs = SmallFilesystem.mount(root.resolve("small"), "size=100m")) {
            DirectoryVolume v = new DirectoryVolume(fs.dir, context(NOW, Duration.ZERO));
            byte[] a = filler(60 << 20, 1);
            byte[] b = filler(60 << 20, 2);
            // Two uploads start while 100 MiB are free, and together need more.
            try (Volume.PendingWrite first = v.startWrite(md5(a));
                 Volume.PendingWrite second = v.startWrite(md5(b))) {
                assumeTrue(first != null && second != null, "no direct I/O on this tmpfs");
                first.append(ByteBuffer.wrap(a));
                assertThrows(IOException.class, () -> second.append(ByteBuffer.wrap(b)));
                second.close();
                // Written anew (as the engine does) while the first one still holds its space:
                // refused, but the shortage may pass, so the volume is not marked.
                assertThrows(VolumeFullException.class, () -> v.write(md5(b), ByteBuffer.wrap(b)));
                assertFalse(Files.exists(fs.dir.resolve("full"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            }
            // The first upload failed too (closed without commit): its space is back.
            v.write(md5(b), ByteBuffer.wrap(b));
            assertArrayEquals(b, read(v, md5(b)));
            // A real shortage with no write in progress still marks it.
            byte[] c = new byte[1000];
            assertThrows(VolumeFullException.class, () -> v.write(md5(c), ByteBuffer.wrap(c)));
            assertTrue(Files.isSymbolicLink(fs.dir.resolve("full")));
        }
    }

    @Test
    void noSpaceDuringAWriteIsVolumeFullAndDamagesNothing() throws Exception {
        // Few inodes: the root, one block directory and one file fit; the next file does not.
        try (SmallFilesystem fs = SmallFilesystem.mount(root.resolve("small"), "size=200m,nr_inodes=3")) {
            DirectoryVolume v = new DirectoryVolume(fs.dir, context(NOW, Duration.ZERO));
            byte[] data = "theta".getBytes();
            String hash = md5(data);
            v.write(hash, ByteBuffer.wrap(data));
            // Same block directory, so only a file is needed, and there is no inode for it.
            byte[] other = null;
            for (int i = 0; other == null; i++) {
                byte[] candidate = ("theta" + i).getBytes();
                if (md5(candidate).startsWith(hash.substring(0, 3))) {
                    other = candidate;
                }
            }
            byte[] blocked = other;
            assertThrows(VolumeFullException.class, () -> v.write(md5(blocked), ByteBuffer.wrap(blocked)));
            assertArrayEquals(data, read(v, hash));
            assertEquals(1, indexLines(v, "").size());
        }
    }

    @Test
    void vanishedRootIsVolumeUnavailable() throws Exception {
        Path gone = Files.createDirectory(root.resolve("gone"));
        DirectoryVolume v = new DirectoryVolume(gone, context(NOW, Duration.ZERO));
        Files.delete(gone);
        String hash = md5("iota".getBytes());
        for (ThrowingCall call : List.<ThrowingCall>of(() -> v.open(hash), () -> v.mtimeNanos(hash),
                () -> v.write(hash, ByteBuffer.wrap("iota".getBytes())), () -> v.index("", (h, s, m) -> { }))) {
            KeepException e = assertThrows(KeepException.class, call::run);
            assertEquals(503, e.status(), e.toString());
        }
        assertFalse(Files.exists(gone), "a vanished root must not be recreated");
    }

    @Test
    void aDirectoryInPlaceOfABlockIsAnErrorNotABlock() throws Exception {
        String hash = md5("xi".getBytes());
        Files.createDirectories(root.resolve(hash.substring(0, 3)).resolve(hash));
        try (DirectoryVolume v = open(NOW, Duration.ZERO)) {
            IOException e = assertThrows(IOException.class, () -> v.open(hash).close());
            assertFalse(e instanceof BlockNotFoundException);
            assertEquals(List.of(), indexLines(v, ""));
        }
    }

    @Test
    void driverIsFoundByNameAndChecksItsParameters() throws Exception {
        VolumeDriver driver = VolumeDriver.forName("Directory");
        try (Volume v = driver.create(Map.of("Root", root.toString(), "Serialize", true), context(NOW, Duration.ZERO))) {
            assertTrue(v instanceof DirectoryVolume);
            assertEquals(root.toString(), v.status().mountPoint());
        }
        VolumeContext ctx = context(NOW, Duration.ZERO);
        assertThrows(IllegalArgumentException.class, () -> driver.create(Map.of(), ctx));
        assertThrows(IllegalArgumentException.class, () -> driver.create(Map.of("Root", "relative/dir"), ctx));
        assertThrows(IllegalArgumentException.class,
                () -> driver.create(Map.of("Root", root.resolve("missing").toString()), ctx));
        assertThrows(IllegalArgumentException.class,
                () -> driver.create(Map.of("Root", root.toString(), "Serialize", "maybe"), ctx));
    }

    @Test
    void deviceIdIsStablePerDirectoryAndDiffersBetweenDirectories() throws Exception {
        Path other = Files.createDirectory(root.resolve("other"));
        try (DirectoryVolume a = open(NOW, Duration.ZERO);
             DirectoryVolume again = open(NOW, Duration.ZERO);
             DirectoryVolume b = new DirectoryVolume(other, context(NOW, Duration.ZERO))) {
            assertEquals(a.deviceId(), again.deviceId());
            assertNotEquals(a.deviceId(), b.deviceId());
            assertEquals(a.deviceId(), a.status().deviceId());
            assertTrue(a.status().bytesFree() > 0);
            assertTrue(a.status().bytesUsed() > 0);
        }
    }

    @Test
    void serializeAllowsOneIoAtATime() throws Exception {
        String held = plantBlock("kappa", NOW);
        byte[] data = "lambda".getBytes();
        DirectoryVolume v = new DirectoryVolume(root, true, context(NOW, Duration.ZERO));
        java.util.concurrent.atomic.AtomicBoolean written = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = new Thread(() -> {
            try {
                v.write(md5(data), ByteBuffer.wrap(data));
                written.set(true);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (StoredBlock reading = v.open(held)) {
            writer.start();
            // The writer parks waiting for the I/O slot the open read holds.
            while (writer.getState() != Thread.State.WAITING) {
                assertTrue(writer.isAlive(), "writer finished while a read held the volume");
                Thread.sleep(1);
            }
            assertFalse(written.get());
            assertEquals(5, reading.stream().readAllBytes().length);
        }
        writer.join();
        assertTrue(written.get());
        assertArrayEquals(data, read(v, md5(data)));
    }

    @Test
    void withoutSerializeReadsAndWritesOverlap() throws Exception {
        String held = plantBlock("mu", NOW);
        byte[] data = "nu".getBytes();
        DirectoryVolume v = new DirectoryVolume(root, false, context(NOW, Duration.ZERO));
        try (StoredBlock reading = v.open(held)) {
            v.write(md5(data), ByteBuffer.wrap(data)); // would wait forever if serialized
            assertEquals(2, reading.stream().readAllBytes().length);
        }
    }

    // ---- helpers ----

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }

    private static byte[] read(Volume v, String hash) throws IOException {
        try (StoredBlock b = v.open(hash)) {
            return b.stream().readAllBytes();
        }
    }

    private static List<String> indexLines(Volume v, String prefix) throws IOException {
        List<String> lines = new ArrayList<>();
        v.index(prefix, (hash, size, mtime) -> lines.add(hash + "+" + size + " " + mtime));
        lines.sort(null);
        return lines;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static long nanos(Instant i) {
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    static String md5(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
