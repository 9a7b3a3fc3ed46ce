package org.keepstore.volumes.azure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.keepstore.core.KeepException;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.volumes.CuttingServer;
import org.keepstore.volumes.OperationCounter;
import org.keepstore.volumes.SilentServer;

/**
 * A volume whose service is down or silent answers every operation with 503, so the engine
 * fails over to other volumes; and a silent service does not hold a request longer than
 * RequestTimeout. Needs no emulator: the "services" here are a closed port and a socket that
 * accepts connections and never answers.
 */
class AzureVolumeFailureTest {
    private static final String HASH = "acbd18db4cc2f85cedef654fccc4a4d8";
    /** Generous bound against hanging forever; the volume's own timeout is far shorter. */
    private static final Duration NO_HANG = Duration.ofMinutes(2);

    private static Map<String, Object> parameters(int port, String requestTimeout) {
        Map<String, Object> p = new HashMap<>();
        p.put("Endpoint", "http://127.0.0.1:" + port + "/devstoreaccount1");
        p.put("StorageAccountKey", "a2V5LWZvci1hLXNlcnZpY2UtdGhhdC1pcy1kb3du");
        p.put("ContainerName", "blocks");
        p.put("RequestTimeout", requestTimeout);
        p.put("ListBlobsMaxAttempts", 2);
        p.put("ListBlobsRetryDelay", "10ms");
        return p;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void assertUnavailable(Executable operation) {
        KeepException e = assertThrows(KeepException.class, operation);
        assertEquals(503, e.status(), "status of " + e);
    }

    private static void assertEveryOperationUnavailable(Volume v) {
        assertUnavailable(() -> v.open(HASH).close());
        assertUnavailable(() -> v.write(HASH, ByteBuffer.wrap("foo".getBytes())));
        assertUnavailable(() -> v.touch(HASH));
        assertUnavailable(() -> v.mtimeNanos(HASH));
        assertUnavailable(() -> v.trash(HASH));
        assertUnavailable(() -> v.untrash(HASH));
        assertUnavailable(() -> v.index("", (h, s, m) -> { }));
        assertUnavailable(v::emptyTrash);
    }

    @Test
    void unreachableServiceAnswers503() throws Exception {
        Map<String, Object> p = parameters(closedPort(), "5s");
        // Creating the volume succeeds: one unreachable volume must not stop a server.
        try (Volume v = new AzureVolumeDriver().create(p, VolumeContext.defaults())) {
            assertFalse(v.deviceId().contains((String) p.get("StorageAccountKey")));
            assertTimeoutPreemptively(NO_HANG, () -> assertEveryOperationUnavailable(v));
        }
    }

    @Test
    void silentServiceTimesOutWith503() throws Exception {
        try (SilentServer silent = new SilentServer()) {
            Map<String, Object> p = parameters(silent.port(), "1s");
            assertTimeoutPreemptively(NO_HANG, () -> {
                try (Volume v = new AzureVolumeDriver().create(p, VolumeContext.defaults())) {
                    assertUnavailable(() -> v.open(HASH).close());
                    assertUnavailable(() -> v.write(HASH, ByteBuffer.wrap(new byte[100_000])));
                    assertUnavailable(() -> v.mtimeNanos(HASH));
                    assertUnavailable(() -> v.index("", (h, s, m) -> { }));
                }
            });
        }
    }

    private static VolumeContext counting(OperationCounter counter) {
        return new VolumeContext(Clock.systemUTC(), Duration.ofDays(14), Duration.ofDays(14), counter);
    }

    @Test
    void listingRetriesWhileTheServiceIsBusyButNotWhileItIsUnreachable() throws Exception {
        // As the reference: ServerBusy (503) is waited out, ListBlobsMaxAttempts times in all;
        // an unreachable service fails the listing at once.
        HttpServer busy = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        busy.createContext("/", exchange -> {
            byte[] body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code>"
                    + "<Message>The server is busy.</Message></Error>").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("x-ms-error-code", "ServerBusy");
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        busy.start();
        try {
            OperationCounter counter = new OperationCounter();
            try (Volume v = new AzureVolumeDriver().create(parameters(busy.getAddress().getPort(), "5s"),
                    counting(counter))) {
                assertTimeoutPreemptively(NO_HANG, () -> assertUnavailable(() -> v.index("", (h, s, m) -> { })));
            }
            assertEquals(2, counter.count("list"), "both attempts of ListBlobsMaxAttempts were made");
        } finally {
            busy.stop(0);
        }

        OperationCounter counter = new OperationCounter();
        try (Volume v = new AzureVolumeDriver().create(parameters(closedPort(), "5s"), counting(counter))) {
            assertTimeoutPreemptively(NO_HANG, () -> assertUnavailable(() -> v.index("", (h, s, m) -> { })));
        }
        assertEquals(1, counter.count("list"), "no retry against a closed port");
    }

    @Test
    void aResponseCutShortIsAReadErrorNotAShortBlock() throws Exception {
        // As with S3: a body that breaks off is the service failing (503), not a short block;
        // also when the volume asked for a range (this fake answers every request whole).
        String headers = "Content-Type: application/octet-stream\r\nLast-Modified: Tue, 24 Nov 2026 10:00:00 GMT\r\n"
                + "ETag: \"0x8D0000000000001\"\r\n";
        try (CuttingServer cutting = new CuttingServer(1000, 500, headers)) {
            for (Map<String, Object> extra : List.<Map<String, Object>>of(Map.of(), Map.of("MaxGetBytes", 400))) {
                Map<String, Object> p = parameters(cutting.port(), "5s");
                p.putAll(extra);
                try (Volume v = new AzureVolumeDriver().create(p, VolumeContext.defaults())) {
                    assertTimeoutPreemptively(NO_HANG, () -> {
                        try (StoredBlock block = v.open(HASH)) {
                            KeepException e = assertThrows(KeepException.class, () -> block.stream().readAllBytes());
                            assertEquals(503, e.status(), "with " + extra);
                        }
                    });
                }
            }
        }
    }
}
