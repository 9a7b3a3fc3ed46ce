package org.keepstore.volumes.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.KeepException;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;

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
        List<Socket> accepted = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = silent.accept(); // read nothing, answer nothing
                        synchronized (accepted) {
                            accepted.add(s);
                        }
                    }
                } catch (IOException closed) {
                    // test over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            try (Volume v = volumeAt("http://127.0.0.1:" + silent.getLocalPort())) {
                KeepException e = assertThrows(KeepException.class, () -> v.mtimeNanos(HASH));
                assertEquals(503, e.status());
                e = assertThrows(KeepException.class, () -> v.open(HASH));
                assertEquals(503, e.status());
            }
        } finally {
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }
}
