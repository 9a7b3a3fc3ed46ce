package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keepstore.core.testing.TestData.randomBytes;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.keepstore.core.testing.ReadBack;

/**
 * The overlapped data path: hashing behind a body that is still arriving, sending a chunk while
 * the next is read, and small blocks that do without pool buffers.
 */
class DataPathPipelineTest {
    private final ExecutorService executor = Executors.newCachedThreadPool();

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    private static byte[] md5(byte[] data, int length) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        md5.update(data, 0, length);
        return md5.digest();
    }

    @Test
    void trailingDigestEqualsPlainDigestWhateverTheStepsAre() throws Exception {
        byte[] data = randomBytes(5 * 1024 * 1024 + 17, 1);
        // A direct buffer, as the pool's are.
        ByteBuffer buffer = ByteBuffer.allocateDirect(data.length).put(data).flip();
        TrailingDigest digest = new TrailingDigest(buffer, MessageDigest.getInstance("MD5"), executor);
        Random steps = new Random(2);
        int filled = 0;
        while (filled < data.length - 100) {
            filled = Math.min(data.length - 100, filled + steps.nextInt(700_000));
            digest.advance(filled);
        }
        assertArrayEquals(md5(data, data.length - 100), digest.digest(data.length - 100));
    }

    @Test
    void cancelledTrailingDigestStops() throws Exception {
        byte[] data = randomBytes(3 * 1024 * 1024, 3);
        TrailingDigest digest = new TrailingDigest(ByteBuffer.wrap(data), MessageDigest.getInstance("MD5"), executor);
        digest.advance(data.length / 2);
        digest.cancel();
        assertThrows(IllegalStateException.class, () -> digest.digest(data.length));
    }

    @Test
    void chunkSenderDeliversInOrderAndReportsSinkFailures() throws Exception {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ChunkSender sender = new ChunkSender(ReadBack.into(received), executor);
        byte[] data = randomBytes(1000, 4);
        for (int off = 0; off < data.length; off += 100) {
            sender.send(ByteBuffer.wrap(data, off, 100));
        }
        sender.finish();
        assertArrayEquals(data, received.toByteArray());

        IOException gone = new IOException("client went away");
        ChunkSender failing = new ChunkSender(new BlockSink() {
            @Override
            public void begin(long size) {
            }

            @Override
            public void write(ByteBuffer chunk) throws IOException {
                throw gone;
            }
        }, executor);
        failing.send(ByteBuffer.wrap(data));
        assertSame(gone, assertThrows(IOException.class, failing::finish));
    }

    @Test
    void largeBlocksRoundTripThroughThePipelinesAndSmallOnesNeedNoPoolBuffer() throws Exception {
        BufferPool pool = new BufferPool(1);
        MemoryVolume volume = new MemoryVolume(VolumeContext.defaults());
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor("pipeline"), volume)), pool,
                KeepStore.Options.defaults())) {
            byte[] large = randomBytes(5 * CopyReader.READ_CHUNK + 3, 5);
            String largeHash = HexFormat.of().formatHex(md5(large, large.length));
            // A stream that hands out odd-sized pieces, as a network does.
            InputStream trickle = new ByteArrayInputStream(large) {
                @Override
                public synchronized int read(byte[] b, int off, int len) {
                    return super.read(b, off, Math.min(len, 12_345));
                }
            };
            assertEquals(large.length, store.write(largeHash, trickle, -1, Set.of()).locator().size());
            assertArrayEquals(large, ReadBack.block(store, largeHash));

            byte[] wrong = large.clone();
            wrong[large.length - 1] ^= 1;
            KeepException mismatch = assertThrows(KeepException.class,
                    () -> store.write(largeHash, new ByteArrayInputStream(wrong), wrong.length, Set.of()));
            assertEquals(400, mismatch.status());

            // With the only pool buffer held elsewhere, small blocks are still written and read.
            try (BufferPool.Lease held = pool.acquire()) {
                byte[] small = randomBytes(1024, 6);
                String smallHash = HexFormat.of().formatHex(md5(small, small.length));
                store.write(smallHash, new ByteArrayInputStream(small), small.length, Set.of());
                assertEquals(small.length, store.verify(smallHash));
                assertTrue(held.buffer().capacity() > 0);
            }
            assertEquals(0, pool.inUse());
        }
    }
}
