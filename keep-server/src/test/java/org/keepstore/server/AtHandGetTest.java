package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.MemoryVolume;
import org.keepstore.core.Mount;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.testing.ForwardingVolume;
import org.keepstore.core.testing.TestData;
import org.keepstore.server.http.KeepHttpServer;

/**
 * A GET of a small block its volume holds in memory is answered from
 * {@link Volume#readIfAtHand} on the I/O thread, with the same answer the usual path gives;
 * everything else still opens the block the usual way.
 */
class AtHandGetTest {
    private static final Duration TTL = Duration.ofDays(14);
    private static final String TOKEN = "user-token";

    private final MemoryVolume memory = new MemoryVolume("memory", VolumeContext.defaults());
    private final CountingVolume volume = new CountingVolume(memory);
    private final BlobSigner signer = new BlobSigner("signing key".getBytes(), TTL, Clock.systemUTC());
    private KeepStore store;
    private KeepHttpServer server;
    private TestHttp http;

    @BeforeEach
    void start() throws Exception {
        store = new KeepStore(List.of(Mount.of(Mount.uuidFor("memory"), volume)), new BufferPool(2),
                KeepStore.Options.defaults());
        server = KeepHttpServer.builder(store).signer(signer).enforcePermissions(true).maxRequests(16)
                .pullQueue(new ListOnlyWorkQueue<>()).trashQueue(new ListOnlyWorkQueue<>()).build();
        server.start("127.0.0.1", 0);
        http = new TestHttp("127.0.0.1", server.port());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        store.close();
    }

    @Test
    void aSmallBlockAtHandIsServedWithoutOpeningIt() throws Exception {
        byte[] small = stored(1024, 1);
        TestHttp.Response fast = get(small);
        assertEquals(200, fast.status());
        assertArrayEquals(small, fast.body());
        assertEquals(0, volume.opens.get(), "answered from readIfAtHand");

        byte[] large = stored(KeepStore.AT_HAND_LIMIT + 1, 2);
        TestHttp.Response usual = get(large);
        assertEquals(200, usual.status());
        assertArrayEquals(large, usual.body());
        assertTrue(volume.opens.get() > 0, "a block over the limit goes the usual way");

        // Same headers both ways (their values differ only where the request does).
        assertEquals(headerNames(usual.headers()), headerNames(fast.headers()));
        assertEquals("application/octet-stream", fast.header("Content-Type"));
        assertEquals("1024", fast.header("Content-Length"));
        assertEquals("X-Keep-Signature", fast.header("Vary"));
    }

    @Test
    void whatIsNotRightIsLeftToTheUsualPath() throws Exception {
        byte[] data = stored(1024, 3);
        String hash = TestHttp.md5(data);
        Locator unsigned = Locator.of(hash, data.length);

        assertEquals(401, http.get("/" + unsigned).status(), "no token");
        Locator expired = new BlobSigner("signing key".getBytes(), TTL, Clock.offset(Clock.systemUTC(),
                TTL.multipliedBy(-2))).sign(unsigned, TOKEN);
        assertEquals(401, http.get("/" + expired, "Authorization", "Bearer " + TOKEN).status(), "expired");
        assertEquals(0, volume.opens.get(), "refused before any read");

        byte[] corrupt = data.clone();
        corrupt[7] ^= 1;
        memory.putRaw(hash, corrupt);
        assertEquals(502, get(data).status(), "a corrupt copy is reported by the usual path");
        assertEquals(1, volume.opens.get());
    }

    private byte[] stored(int size, long seed) throws IOException {
        byte[] data = TestData.randomBytes(size, seed);
        memory.write(TestHttp.md5(data), ByteBuffer.wrap(data));
        return data;
    }

    private TestHttp.Response get(byte[] data) throws Exception {
        Locator signed = signer.sign(Locator.of(TestHttp.md5(data), data.length), TOKEN);
        return http.get("/" + signed, "Authorization", "Bearer " + TOKEN);
    }

    private static TreeSet<String> headerNames(Map<String, String> headers) {
        TreeSet<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        names.addAll(headers.keySet());
        return names;
    }

    /** A volume that counts how often a block is opened the usual way. */
    private static final class CountingVolume extends ForwardingVolume {
        final AtomicInteger opens = new AtomicInteger();

        CountingVolume(Volume inner) {
            super(inner);
        }

        @Override
        public StoredBlock open(String hash) throws IOException {
            opens.incrementAndGet();
            return super.open(hash);
        }
    }
}
