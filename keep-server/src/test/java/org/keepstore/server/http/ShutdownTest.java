package org.keepstore.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.MemoryVolume;
import org.keepstore.core.Mount;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.testing.ForwardingVolume;
import org.keepstore.core.worker.WorkQueue;

/** What the server records for a request that shutdown cuts off before it could be answered. */
class ShutdownTest {

    /** A volume whose writes hang, as a frozen object store's do, until released. */
    private static final class StuckVolume extends ForwardingVolume {
        final CountDownLatch writeStarted = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        StuckVolume() {
            super(new MemoryVolume("stuck", VolumeContext.defaults()));
        }

        @Override
        public void write(String hash, ByteBuffer data) throws IOException {
            writeStarted.countDown();
            // A backend call that does not notice interrupts, like a socket write.
            boolean interrupted = false;
            while (true) {
                try {
                    release.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("backend did not answer");
        }
    }

    private static final class NoWork<T> implements WorkQueue<T> {
        public void replace(List<T> items) {
        }

        public int queued() {
            return 0;
        }

        public int inProgress() {
            return 0;
        }
    }

    private static final ServerMetrics.Gauges NO_GAUGES = new ServerMetrics.Gauges() {
        public long bufferBytesAllocated() { return 0; }
        public int buffersMax() { return 0; }
        public int buffersInUse() { return 0; }
        public int pullQueued() { return 0; }
        public int pullInProgress() { return 0; }
        public int trashQueued() { return 0; }
        public int trashInProgress() { return 0; }
        public int requestsInFlight() { return 0; }
        public int requestsMax() { return 0; }
    };

    @Test
    void aPutStuckInItsVolumeAtShutdownIsRecordedAsUnanswered() throws Exception {
        StuckVolume volume = new StuckVolume();
        ServerMetrics metrics = new ServerMetrics();
        byte[] data = "stuck at shutdown".getBytes(StandardCharsets.UTF_8);
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor("stuck"), volume)), new BufferPool(2),
                KeepStore.Options.defaults())) {
            KeepHttpServer server = KeepHttpServer.builder(store).metrics(metrics)
                    .pullQueue(new NoWork<>()).trashQueue(new NoWork<>()).build();
            server.start("127.0.0.1", 0);
            try (Socket client = new Socket("127.0.0.1", server.port())) {
                OutputStream out = client.getOutputStream();
                out.write(("PUT /" + hash + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + data.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(data);
                out.flush();
                assertTrue(volume.writeStarted.await(30, TimeUnit.SECONDS), "the PUT reached the volume");

                assertFalse(server.shutdown(Duration.ofMillis(200)), "the stuck PUT did not finish in time");
                InputStream in = client.getInputStream();
                assertEquals(-1, in.read(), "the connection was closed without an answer");
            } finally {
                volume.release.countDown();
                server.close();
            }
        }
        // The handler gives up once the volume fails; its request is on record by then.
        String rendered = awaitRecordedPut(metrics);
        assertTrue(rendered.contains("request_duration_seconds_count{code=\"499\",method=\"put\"} 1"), rendered);
    }

    @Test
    void whileDrainingARequestOnAnOpenConnectionGets503AndTheConnectionIsClosed() throws Exception {
        StuckVolume volume = new StuckVolume();
        byte[] data = "keeps the drain going".getBytes(StandardCharsets.UTF_8);
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        try (KeepStore store = new KeepStore(List.of(Mount.of(Mount.uuidFor("stuck"), volume)), new BufferPool(2),
                KeepStore.Options.defaults())) {
            KeepHttpServer server = KeepHttpServer.builder(store)
                    .pullQueue(new NoWork<>()).trashQueue(new NoWork<>()).build();
            server.start("127.0.0.1", 0);
            Thread stopper = new Thread(() -> {
                try {
                    server.shutdown(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try (Socket busy = new Socket("127.0.0.1", server.port());
                 Socket idle = new Socket("127.0.0.1", server.port())) {
                idle.setSoTimeout(30_000);
                String ping = "GET /_health/ping HTTP/1.1\r\nHost: t\r\n\r\n";
                idle.getOutputStream().write(ping.getBytes(StandardCharsets.US_ASCII));
                assertTrue(readResponse(idle.getInputStream()).startsWith("HTTP/1.1 200"), "kept alive");
                busy.getOutputStream().write(("PUT /" + hash + " HTTP/1.1\r\nHost: t\r\nContent-Length: "
                        + data.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                busy.getOutputStream().write(data);
                assertTrue(volume.writeStarted.await(30, TimeUnit.SECONDS), "the PUT reached the volume");

                stopper.start();
                String answer = "";
                for (int i = 0; i < 3000 && !answer.startsWith("HTTP/1.1 503"); i++) {
                    Thread.sleep(10); // 200s until the server is draining
                    idle.getOutputStream().write(ping.getBytes(StandardCharsets.US_ASCII));
                    answer = readResponse(idle.getInputStream());
                }
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), answer);
                assertEquals(-1, idle.getInputStream().read(), "the server closed the connection");
            } finally {
                volume.release.countDown();
                stopper.join(60_000);
                server.close();
            }
        }
    }

    /** The status line and headers of one response, and its body if it has a Content-Length. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)")
                .matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
        return head.toString();
    }

    private static String awaitRecordedPut(ServerMetrics metrics) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String rendered = metrics.render(NO_GAUGES);
        while (!rendered.contains("request_duration_seconds_count{") || !rendered.contains("method=\"put\"")) {
            assertTrue(System.nanoTime() < deadline, "the PUT was never recorded:\n" + rendered);
            Thread.sleep(10);
            rendered = metrics.render(NO_GAUGES);
        }
        return rendered;
    }
}
