package org.keepstore.volumes.azure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.options.BlockBlobSimpleUploadOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.Locator;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.volumes.OperationCounter;

/**
 * The reference keepstore's container layout, checked by looking at (and preparing) blobs
 * directly with the SDK, against Azurite.
 */
class AzureVolumeLayoutTest {
    private final Random random = new Random(6);
    private final List<Volume> volumes = new ArrayList<>();
    private Azurite azurite;
    private String containerName;
    private BlobContainerClient container;

    @BeforeEach
    void freshContainer() {
        azurite = Azurite.fromEnvironment();
        containerName = azurite.newContainer();
        container = azurite.container(containerName);
    }

    @AfterEach
    void cleanUp() throws IOException {
        for (Volume v : volumes) {
            v.close();
        }
        if (azurite != null) {
            azurite.deleteContainers();
        }
    }

    private Volume volume(Clock clock, Duration trashLifetime, Map<String, Object> extra) throws IOException {
        VolumeContext context = new VolumeContext(clock, trashLifetime, Duration.ofDays(14), VolumeMetrics.NONE);
        Volume v = new AzureVolumeDriver().create(azurite.parameters(containerName, extra), context);
        volumes.add(v);
        return v;
    }

    private Volume volume() throws IOException {
        return volume(Clock.systemUTC(), Duration.ofHours(1), Map.of());
    }

    /** A clock fixed {@code offset} away from real time, truncated to whole seconds. */
    private static Clock clockAt(Duration offset) {
        return Clock.fixed(Instant.ofEpochSecond(Instant.now().plus(offset).getEpochSecond()), ZoneOffset.UTC);
    }

    private void putBlob(String name, byte[] data, Map<String, String> metadata) {
        container.getBlobClient(name).getBlockBlobClient().uploadWithResponse(
                new BlockBlobSimpleUploadOptions(BinaryData.fromBytes(data)).setMetadata(metadata), null, null);
    }

    private byte[] randomBytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    private static byte[] readAll(Volume v, String hash) throws IOException {
        try (StoredBlock b = v.open(hash); InputStream in = b.stream()) {
            byte[] got = in.readAllBytes();
            assertEquals(b.size(), got.length);
            return got;
        }
    }

    private static Map<String, Long> index(Volume v, String prefix) throws IOException {
        Map<String, Long> sizes = new TreeMap<>();
        v.index(prefix, (hash, size, mtime) -> sizes.put(hash, size));
        return sizes;
    }

    private static long lastModifiedNanos(BlobProperties p) {
        Instant i = p.getLastModified().toInstant();
        return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
    }

    @Test
    void aBlockIsABlobNamedByItsHashWithItsLastModifiedAsMtime() throws Exception {
        Volume v = volume();
        byte[] data = randomBytes(3000);
        String hash = md5(data);
        v.write(hash, ByteBuffer.wrap(data));

        BlobClient blob = container.getBlobClient(hash);
        assertArrayEquals(data, blob.downloadContent().toBytes());
        BlobProperties p = blob.getProperties();
        assertEquals(3000, p.getBlobSize());
        assertEquals(lastModifiedNanos(p), v.mtimeNanos(hash));
        assertEquals(Map.of(hash, 3000L), index(v, ""));
        assertTrue(v.deviceId().startsWith("azure://"), v.deviceId());
        assertTrue(v.deviceId().endsWith("/" + containerName), v.deviceId());
        assertFalse(v.deviceId().contains(azurite.key));
    }

    @Test
    void blocksWrittenByAnotherServerAreRead() throws Exception {
        byte[] data = randomBytes(777);
        String hash = md5(data);
        putBlob(hash, data, Map.of());
        Volume v = volume();
        assertArrayEquals(data, readAll(v, hash));
        assertEquals(Map.of(hash, 777L), index(v, ""));
    }

    @Test
    void trashSetsExpiresAtToTheDeadlineAndUntrashRemovesIt() throws Exception {
        Clock clock = clockAt(Duration.ZERO);
        Volume v = volume(clock, Duration.ofHours(1), Map.of());
        byte[] data = randomBytes(100);
        String hash = md5(data);
        v.write(hash, ByteBuffer.wrap(data));

        v.trash(hash);
        Map<String, String> trashed = container.getBlobClient(hash).getProperties().getMetadata();
        assertEquals(Long.toString(clock.instant().getEpochSecond() + 3600), trashed.get("expires_at"));
        assertArrayEquals(data, container.getBlobClient(hash).downloadContent().toBytes(), "trash keeps the data");

        v.untrash(hash);
        assertNull(container.getBlobClient(hash).getProperties().getMetadata().get("expires_at"));
        assertArrayEquals(data, readAll(v, hash));
    }

    @Test
    void aTouchByAnotherServerBetweenTheMtimeCheckAndTheTrashKeepsTheBlock() throws Exception {
        // Two keepstores on one container: this one decides to trash an old block while the
        // other one touches it (a client's PUT of the same data, acknowledged at once).
        for (Duration lifetime : List.of(Duration.ofHours(1), Duration.ZERO)) {
            Volume trasher = volume(Clock.systemUTC(), lifetime, Map.of());
            Volume other = volume(Clock.systemUTC(), lifetime, Map.of());
            byte[] data = randomBytes(100);
            String hash = md5(data);
            trasher.write(hash, ByteBuffer.wrap(data));
            assertFalse(trasher.trashIfMtime(hash, mtime -> {
                try {
                    other.touch(hash); // lands after the decision, before the trashing
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return true;
            }), "lifetime " + lifetime);
            assertNull(container.getBlobClient(hash).getProperties().getMetadata().get("expires_at"));
            assertArrayEquals(data, readAll(other, hash), "lifetime " + lifetime);
            // Without a touch in between it is trashed as usual.
            assertTrue(trasher.trashIfMtime(hash, mtime -> true));
            assertThrows(BlockNotFoundException.class, () -> other.mtimeNanos(hash));
        }
    }

    @Test
    void trashWithZeroLifetimeDeletesTheBlob() throws Exception {
        Volume v = volume(Clock.systemUTC(), Duration.ZERO, Map.of());
        byte[] data = randomBytes(100);
        String hash = md5(data);
        v.write(hash, ByteBuffer.wrap(data));
        v.trash(hash);
        assertFalse(container.getBlobClient(hash).exists());
    }

    @Test
    void blobsTrashedByAnotherServerAreInvisibleAndEmptiedOnlyPastTheirDeadline() throws Exception {
        Clock clock = clockAt(Duration.ZERO);
        long now = clock.instant().getEpochSecond();
        byte[] pastData = randomBytes(10);
        byte[] futureData = randomBytes(20);
        byte[] liveData = randomBytes(30);
        String past = md5(pastData);
        String future = md5(futureData);
        String live = md5(liveData);
        putBlob(past, pastData, Map.of("expires_at", Long.toString(now - 10)));
        putBlob(future, futureData, Map.of("expires_at", Long.toString(now + 3600)));
        putBlob(live, liveData, Map.of("touch", "1234", "origin", "elsewhere"));

        Volume v = volume(clock, Duration.ofHours(1), Map.of());
        for (String trashed : List.of(past, future)) {
            assertThrows(BlockNotFoundException.class, () -> v.open(trashed).close());
            assertThrows(BlockNotFoundException.class, () -> v.mtimeNanos(trashed));
            assertThrows(BlockNotFoundException.class, () -> v.touch(trashed));
            assertThrows(BlockNotFoundException.class, () -> v.trash(trashed));
        }
        assertEquals(Map.of(live, 30L), index(v, ""));

        EmptyTrashResult result = v.emptyTrash();
        assertEquals(new EmptyTrashResult(1, 10, 1, 20), result);
        assertFalse(container.getBlobClient(past).exists());
        assertTrue(container.getBlobClient(future).exists());

        v.untrash(future);
        assertArrayEquals(futureData, readAll(v, future));
        assertEquals(Map.of(live, 30L, future, 20L), index(v, ""));
        // Touch records the time and keeps other metadata.
        v.touch(live);
        Map<String, String> touched = container.getBlobClient(live).getProperties().getMetadata();
        assertEquals("elsewhere", touched.get("origin"));
        assertEquals(Long.toString(clock.instant().getEpochSecond()), touched.get("touch"));
    }

    @Test
    void emptyTrashDoesNotDeleteABlockRewrittenAfterItWasListed() throws Exception {
        // A rewrite replaces the blob (new ETag, no expires_at), so it is no longer trash.
        Clock clock = clockAt(Duration.ZERO);
        byte[] data = randomBytes(50);
        String hash = md5(data);
        putBlob(hash, data, Map.of("expires_at", Long.toString(clock.instant().getEpochSecond() - 1)));
        Volume v = volume(clock, Duration.ofHours(1), Map.of());
        v.write(hash, ByteBuffer.wrap(data));
        assertEquals(EmptyTrashResult.NONE, v.emptyTrash());
        assertArrayEquals(data, readAll(v, hash));
    }

    @Test
    void youngZeroLengthBlobsAreLeftOutOfTheIndexUntilTheWriteRaceIntervalPassed() throws Exception {
        String pending = md5("data still being committed".getBytes());
        putBlob(pending, new byte[0], Map.of());
        putBlob(Locator.EMPTY_BLOCK_HASH, new byte[0], Map.of());

        Volume now = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of("WriteRaceInterval", "15s"));
        // The empty block really is empty, so it is listed at once.
        assertEquals(Map.of(Locator.EMPTY_BLOCK_HASH, 0L), index(now, ""));

        Volume later = volume(clockAt(Duration.ofMinutes(1)), Duration.ofHours(1), Map.of("WriteRaceInterval", "15s"));
        assertEquals(Map.of(Locator.EMPTY_BLOCK_HASH, 0L, pending, 0L), index(later, ""));
    }

    @Test
    void aReaderOfAYoungEmptyBlobWaitsForTheDataToLand() throws Exception {
        byte[] data = randomBytes(5000);
        String hash = md5(data);
        putBlob(hash, new byte[0], Map.of());
        Volume v = volume(Clock.systemUTC(), Duration.ofHours(1),
                Map.of("WriteRaceInterval", "60s", "WriteRacePollTime", "50ms"));

        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<byte[]> reader = pool.submit(() -> readAll(v, hash));
            Thread.sleep(300);
            putBlob(hash, data, Map.of());
            assertArrayEquals(data, reader.get(2, TimeUnit.MINUTES));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anOldEmptyBlobIsReadAsItIs() throws Exception {
        String hash = md5("lost".getBytes());
        putBlob(hash, new byte[0], Map.of());
        Volume v = volume(clockAt(Duration.ofMinutes(1)), Duration.ofHours(1), Map.of("WriteRaceInterval", "15s"));
        assertEquals(0, readAll(v, hash).length);
        assertEquals(Map.of(hash, 0L), index(v, ""));
    }

    @Test
    void blobsThatAreNotBlocksAreIgnored() throws Exception {
        Clock clock = clockAt(Duration.ZERO);
        String expired = Long.toString(clock.instant().getEpochSecond() - 100);
        putBlob("README", "not a block".getBytes(), Map.of());
        putBlob("ACBD18DB4CC2F85CEDEF654FCCC4A4D8", "upper case".getBytes(), Map.of("expires_at", expired));
        putBlob("recent/acbd18db4cc2f85cedef654fccc4a4d8", new byte[0], Map.of("expires_at", expired));
        putBlob("acbd18db4cc2f85cedef654fccc4a4d8.tmp", "x".getBytes(), Map.of());
        Volume v = volume(clock, Duration.ofHours(1), Map.of());
        assertEquals(Map.of(), index(v, ""));
        assertEquals(Map.of(), index(v, "a"));
        assertEquals(EmptyTrashResult.NONE, v.emptyTrash());
        assertEquals(4, container.listBlobs().stream().count());
    }

    @Test
    void indexPagesThroughLongListingsAndFiltersByPrefix() throws Exception {
        VolumeContext context = new VolumeContext(Clock.systemUTC(), Duration.ofHours(1), Duration.ofDays(14),
                VolumeMetrics.NONE);
        Volume v = new AzureVolume(AzureVolumeSettings.parse(azurite.parameters(containerName)), context, 3);
        volumes.add(v);
        Map<String, Long> expected = new TreeMap<>();
        for (int i = 0; i < 20; i++) {
            byte[] data = randomBytes(1 + i);
            String hash = md5(data);
            v.write(hash, ByteBuffer.wrap(data));
            expected.put(hash, (long) data.length);
        }
        assertEquals(expected, index(v, ""));
        for (String prefix : List.of("0", "7", "f", expected.keySet().iterator().next().substring(0, 2))) {
            Map<String, Long> withPrefix = new TreeMap<>(expected);
            withPrefix.keySet().removeIf(h -> !h.startsWith(prefix));
            assertEquals(withPrefix, index(v, prefix), "prefix " + prefix);
        }
        // Trash spread over several pages is found and emptied.
        Volume zeroLifetime = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of());
        for (String hash : expected.keySet()) {
            zeroLifetime.trash(hash);
        }
        assertEquals(Map.of(), index(v, ""));
        Volume afterDeadline = volume(clockAt(Duration.ofHours(2)), Duration.ofHours(1), Map.of());
        assertEquals(20, afterDeadline.emptyTrash().deletedBlocks());
        assertEquals(0, container.listBlobs().stream().count());
    }

    @Test
    void splitReadsReturnTheSameBytesAsASingleGet() throws Exception {
        Volume split = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of("MaxGetBytes", 1_000_003));
        for (int size : new int[] {0, 1, 1_000_002, 1_000_003, 1_000_004, 7_654_321}) {
            byte[] data = randomBytes(size);
            String hash = md5(data);
            split.write(hash, ByteBuffer.wrap(data));
            assertArrayEquals(data, readAll(split, hash), "size " + size);
        }
    }

    @Test
    void aSplitReadSurvivesATouchOrTrashOfItsBlockBetweenPieces() throws Exception {
        // Touch, trash and untrash change the blob's metadata (so its ETag), not its bytes: a
        // read going on must not fail for them. A blob deleted meanwhile reads as absent.
        Volume split = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of("MaxGetBytes", 1 << 20));
        Volume other = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of());
        Volume deleter = volume(Clock.systemUTC(), Duration.ZERO, Map.of());
        byte[] data = randomBytes(3 << 20);
        String hash = md5(data);
        split.write(hash, ByteBuffer.wrap(data));
        try (StoredBlock b = split.open(hash); InputStream in = b.stream()) {
            byte[] first = in.readNBytes(1 << 20);
            other.touch(hash);
            byte[] second = in.readNBytes(1 << 20);
            other.trash(hash);
            byte[] rest = in.readAllBytes();
            ByteBuffer all = ByteBuffer.allocate(data.length).put(first).put(second).put(rest);
            assertArrayEquals(data, all.array());
        }
        other.untrash(hash);
        try (StoredBlock b = split.open(hash); InputStream in = b.stream()) {
            in.readNBytes(1 << 20);
            deleter.trash(hash);
            assertThrows(BlockNotFoundException.class, in::readAllBytes);
        }
    }

    @Test
    void aFullSizeBlockReadInPiecesIsIntact() throws Exception {
        Volume split = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of("MaxGetBytes", (4 << 20) + 1));
        byte[] data = randomBytes(Locator.MAX_BLOCK_SIZE);
        String hash = md5(data);
        split.write(hash, ByteBuffer.wrap(data));
        data = null; // keep one 64 MiB copy at a time
        try (StoredBlock b = split.open(hash); InputStream in = b.stream()) {
            assertEquals(Locator.MAX_BLOCK_SIZE, b.size());
            MessageDigest md = MessageDigest.getInstance("MD5");
            byte[] chunk = new byte[1 << 16];
            long total = 0;
            for (int n; (n = in.read(chunk)) > 0; ) {
                md.update(chunk, 0, n);
                total += n;
            }
            assertEquals(Locator.MAX_BLOCK_SIZE, total);
            assertEquals(hash, HexFormat.of().formatHex(md.digest()));
        }
    }

    @Test
    void splitReadsFetchEachPieceOnlyWhenTheReaderGetsToIt() throws Exception {
        // So a split read holds no more of the block than the reader's own buffer: many at once
        // must not add up to whole blocks in memory outside the buffer pool.
        OperationCounter counter = new OperationCounter();
        Volume split = new AzureVolumeDriver().create(azurite.parameters(containerName, Map.of("MaxGetBytes", 1 << 20)),
                new VolumeContext(Clock.systemUTC(), Duration.ofHours(1), Duration.ofDays(14), counter));
        volumes.add(split);
        byte[] data = randomBytes(5 << 20);
        String hash = md5(data);
        split.write(hash, ByteBuffer.wrap(data));
        counter.reset();
        try (StoredBlock b = split.open(hash); InputStream in = b.stream()) {
            assertEquals(data.length, b.size());
            assertArrayEquals(Arrays.copyOf(data, 1 << 20), in.readNBytes(1 << 20));
            assertEquals(1, counter.count("get_range"), "only the first piece was requested");
            assertArrayEquals(Arrays.copyOfRange(data, 1 << 20, (1 << 20) + 10), in.readNBytes(10));
            assertEquals(2, counter.count("get_range"));
        }
        assertArrayEquals(data, readAll(split, hash));
        assertEquals(2 + 5, counter.count("get_range"));
    }

    @Test
    void aMissingContainerOrAWrongKeyStopsTheVolumeFromStarting() {
        VolumeContext context = VolumeContext.defaults();
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new AzureVolumeDriver().create(azurite.parameters("no-such-container"), context));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());

        String wrongKey = Base64.getEncoder().encodeToString("not the account key".getBytes());
        IOException refused = assertThrows(IOException.class, () -> new AzureVolumeDriver().create(
                azurite.parameters(containerName, Map.of("StorageAccountKey", wrongKey)), context));
        assertTrue(refused.getMessage().contains("403"), refused.getMessage());
        assertFalse(refused.getMessage().contains(wrongKey));
        assertFalse(refused.getMessage().contains(azurite.key));
    }

    @Test
    void anEmptyExpiresAtMeansNotTrashedAsTheReferenceUntrashesThatWay() throws Exception {
        byte[] data = randomBytes(64);
        String hash = md5(data);
        putBlob(hash, data, Map.of("expires_at", "", "touch", "1"));
        Volume v = volume();
        assertArrayEquals(data, readAll(v, hash));
        assertEquals(Map.of(hash, 64L), index(v, ""));
        assertThrows(BlockNotFoundException.class, () -> v.untrash(hash));
        v.touch(hash);
        v.trash(hash);
        assertThrows(BlockNotFoundException.class, () -> v.open(hash).close());
        v.untrash(hash);
        assertArrayEquals(data, readAll(v, hash));
    }

    @Test
    void splitReadsNeverStitchTwoVersionsTogether() throws Exception {
        splitReadsNeverStitch(3 << 20, (5 << 20) / 2);
    }

    @Test
    void splitReadsNeverStitchTwoVersionsOfTheSameSizeTogether() throws Exception {
        splitReadsNeverStitch(3 << 20, 3 << 20);
    }

    private void splitReadsNeverStitch(int sizeA, int sizeB) throws Exception {
        // The volume does not check hashes, so two contents can alternate under one name; a read
        // in pieces must return one of them whole (or fail), never pieces of both.
        Volume v = volume(Clock.systemUTC(), Duration.ofHours(1), Map.of("MaxGetBytes", 1 << 20));
        String hash = md5("two versions".getBytes());
        byte[] a = new byte[sizeA];
        byte[] b = new byte[sizeB];
        Arrays.fill(a, (byte) 'a');
        Arrays.fill(b, (byte) 'b');
        v.write(hash, ByteBuffer.wrap(a));
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger goodReads = new AtomicInteger();
        AtomicReference<String> badRead = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(pool.submit(() -> {
                    while (writing.get() || goodReads.get() == 0) {
                        try {
                            byte[] got = readAll(v, hash);
                            if (Arrays.equals(got, a) || Arrays.equals(got, b)) {
                                goodReads.incrementAndGet();
                            } else {
                                badRead.compareAndSet(null, "read " + got.length + " bytes matching neither");
                            }
                        } catch (IOException changing) {
                            // Allowed: the blob was replaced while it was read.
                        }
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 20; i++) {
                v.write(hash, ByteBuffer.wrap(i % 2 == 0 ? b : a));
            }
            writing.set(false);
            for (Future<?> f : readers) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            writing.set(false);
            pool.shutdownNow();
        }
        assertNull(badRead.get());
        assertTrue(goodReads.get() > 0);
    }
}
