package org.keepstore.volumes.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.KeepException;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.keepstore.volumes.CuttingServer;
import org.keepstore.volumes.SilentServer;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;

/**
 * An endpoint that is down or hangs makes every operation fail with 503 "volume unavailable"
 * (so the engine tries other volumes) once the configured timeouts and retries are spent; a
 * throttling endpoint is retried. Needs no S3 server: it points volumes at a closed port, at a
 * socket that never answers, and at a small HTTP endpoint that answers with canned S3 errors.
 */
class S3VolumeUnavailableTest {
    static final String HASH = "acbd18db4cc2f85cedef654fccc4a4d8";

    private static Volume volumeAt(String endpoint) throws IOException {
        Map<String, Object> p = new HashMap<>();
        p.put("Bucket", "unreachable");
        p.put("Endpoint", endpoint);
        p.put("AccessKeyID", "AKIDEXAMPLE");
        p.put("SecretAccessKey", "not-a-real-secret");
        p.put("UsePathStyle", "true");
        p.put("ConnectTimeout", "1s");
        p.put("ReadTimeout", "1s");
        p.put("IndexPageSize", 10);
        return VolumeDriver.forName("S3").create(p, VolumeContext.defaults());
    }

    private static void assertUnavailable(Volume v) {
        List<Executable> operations = List.of(
                () -> v.open(HASH),
                () -> v.write(HASH, ByteBuffer.wrap("foo".getBytes())),
                () -> v.mtimeNanos(HASH),
                () -> v.index("", (h, s, m) -> { }),
                v::emptyTrash);
        for (Executable op : operations) {
            KeepException e = assertThrows(KeepException.class, op::run);
            assertEquals(503, e.status());
            assertEquals(KeepException.VOLUME_UNAVAILABLE, e.getMessage());
        }
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Exception;
    }

    @Test
    void closedPortIsUnavailable() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (Volume v = volumeAt("http://127.0.0.1:" + port)) {
            assertUnavailable(v);
        }
    }

    @Test
    void throttlingIsRetriedWithBackOff() throws Exception {
        AtomicInteger gets = new AtomicInteger();
        HttpServer fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        fake.createContext("/", exchange -> {
            int status;
            String body;
            if (exchange.getRequestMethod().equals("GET") && gets.incrementAndGet() <= 2) {
                status = 503;
                body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            } else {
                status = 404;
                body = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            if (exchange.getRequestMethod().equals("HEAD")) {
                exchange.sendResponseHeaders(status, -1);
            } else {
                exchange.sendResponseHeaders(status, bytes.length);
                exchange.getResponseBody().write(bytes);
            }
            exchange.close();
        });
        fake.start();
        try (Volume v = volumeAt("http://127.0.0.1:" + fake.getAddress().getPort())) {
            // Two SlowDown answers, then the real answer: the caller only sees the last.
            assertThrows(BlockNotFoundException.class, () -> v.open(HASH));
            assertEquals(3, gets.get());
        } finally {
            fake.stop(0);
        }
    }

    @Test
    void silentServerTimesOutAsUnavailable() throws Exception {
        try (SilentServer silent = new SilentServer();
             Volume v = volumeAt("http://127.0.0.1:" + silent.port())) {
            KeepException e = assertThrows(KeepException.class, () -> v.mtimeNanos(HASH));
            assertEquals(503, e.status());
            e = assertThrows(KeepException.class, () -> v.open(HASH));
            assertEquals(503, e.status());
        }
    }

    @Test
    void aPutToAServerThatStopsTakingDataGivesUp() throws Exception {
        // The server accepts connections and never reads: once the socket buffers are full the
        // upload cannot move, and the read timeout alone would never end it.
        long rateBefore = S3Volume.putMinBytesPerSecond;
        S3Volume.putMinBytesPerSecond = 64L << 20; // a short limit, to keep the test short
        try (SilentServer stalled = new SilentServer(4096);
             Volume v = volumeAt("http://127.0.0.1:" + stalled.port())) {
            // Larger than what the kernel buffers on both sides can hold (4 MiB here).
            ByteBuffer block = ByteBuffer.allocate(16 << 20);
            KeepException e = assertThrows(KeepException.class, () -> v.write(HASH, block));
            assertEquals(503, e.status());
            assertInstanceOf(ApiCallAttemptTimeoutException.class, e.getCause(), "ended by the attempt limit");
        } finally {
            S3Volume.putMinBytesPerSecond = rateBefore;
        }
    }

    @Test
    void aPutAttemptMayTakeTheReadTimeoutPlusTheBodyAtOneMiBPerSecond() {
        assertEquals(Duration.ofSeconds(10), S3Volume.putAttemptLimit(Duration.ofSeconds(10), 0));
        assertEquals(Duration.ofSeconds(74), S3Volume.putAttemptLimit(Duration.ofSeconds(10), 64L << 20));
        assertEquals(Duration.ofMillis(10_500), S3Volume.putAttemptLimit(Duration.ofSeconds(10), 512 << 10));
    }

    @Test
    void aResponseCutShortIsAReadErrorNotAShortBlock() throws Exception {
        // The endpoint promises 1000 bytes, sends 500 and closes: the object may well be intact,
        // so the read must fail as unavailable rather than end as if the block were short (which
        // the engine would report as a corrupt copy).
        try (CuttingServer cutting = new CuttingServer(1000, 500,
                "Content-Type: application/octet-stream\r\nLast-Modified: Tue, 24 Nov 2026 10:00:00 GMT\r\n")) {
            try (Volume v = volumeAt("http://127.0.0.1:" + cutting.port());
                 StoredBlock block = v.open(HASH)) {
                assertEquals(1000, block.size());
                KeepException e = assertThrows(KeepException.class, () -> block.stream().readAllBytes());
                assertEquals(503, e.status());
            }
        }
    }
}
