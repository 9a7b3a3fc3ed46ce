package org.keepstore.volumes.azure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.MemoryVolume;
import org.keepstore.core.Mount;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.WriteResult;
import org.keepstore.core.testing.ReadBack;

/**
 * The engine over an Azure volume whose service is down: reads and writes fail over to the
 * other volume, and with no other volume the client gets 503 rather than 404. Needs no emulator.
 */
class AzureFailoverTest {
    private static Volume unreachableAzureVolume() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Map<String, Object> p = new HashMap<>();
        p.put("Endpoint", "http://127.0.0.1:" + port + "/devstoreaccount1");
        p.put("StorageAccountKey", "a2V5");
        p.put("ContainerName", "blocks");
        p.put("RequestTimeout", "5s");
        p.put("ListBlobsMaxAttempts", 1);
        return new AzureVolumeDriver().create(p, VolumeContext.defaults());
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    @Test
    void readsAndWritesFailOverToAnotherVolume() throws Exception {
        byte[] data = "stored while Azure is down".getBytes();
        String hash = md5(data);
        Volume memory = new MemoryVolume(VolumeContext.defaults());
        List<Mount> mounts = List.of(Mount.of(Mount.uuidFor("azure-down"), unreachableAzureVolume()),
                Mount.of(Mount.uuidFor("memory"), memory));
        try (KeepStore store = new KeepStore(mounts, new BufferPool(2),
                new KeepStore.Options(Clock.systemUTC(), Duration.ofDays(14), true))) {
            WriteResult result = store.write(hash, ByteBuffer.wrap(data), Set.of(), null);
            assertEquals(1, result.replicas());
            assertArrayEquals(data, ReadBack.block(store, hash));
        }
    }

    @Test
    void withoutAnotherVolumeTheClientGets503() throws Exception {
        byte[] data = "nowhere to go".getBytes();
        String hash = md5(data);
        List<Mount> mounts = List.of(Mount.of(Mount.uuidFor("azure-down"), unreachableAzureVolume()));
        try (KeepStore store = new KeepStore(mounts, new BufferPool(2),
                new KeepStore.Options(Clock.systemUTC(), Duration.ofDays(14), true))) {
            KeepException write = assertThrows(KeepException.class,
                    () -> store.write(hash, ByteBuffer.wrap(data), Set.of(), null));
            assertEquals(503, write.status());
            KeepException read = assertThrows(KeepException.class, () -> ReadBack.block(store, hash));
            assertEquals(503, read.status());
        }
    }
}
