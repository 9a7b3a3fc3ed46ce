package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200 clients at once against {@code -max-buffers=2 -max-requests=8}: the excess gets 503 at once,
 * admitted requests complete with correct data, resident memory stays within SPEC §7's bound, and
 * the storm leaves no threads or file descriptors behind.
 */
class OverloadIT {
    private static final int CLIENTS = 200;
    private static final int MAX_BUFFERS = 2;
    private static final long MIB = 1 << 20;

    @TempDir
    Path tmp;

    @Test
    void excessIsRefusedQuicklyAndNothingLeaks() throws Exception {
        int storms = Suite.setting("keepstore.overload.storms", 2, 5);
        Path vol = java.nio.file.Files.createDirectories(tmp.resolve("vol"));
        try (Keepstore server = Keepstore.start(tmp, "overload", List.of("-Xmx512m"), List.of(
                "-volume=" + vol, "-max-buffers=" + MAX_BUFFERS, "-max-requests=8"))) {
            // The fixed JVM overhead of §7: the server started, no block buffer allocated yet.
            long startRss = server.statusKiB("VmRSS");
            Random random = new Random();
            // Blocks the GETs of the storm read back.
            List<String> stored = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                stored.add(server.http.putBlock(Http.randomBlock((int) (4 * MIB), random)));
            }
            // A first small storm warms the server up (JIT, worker threads, buffers) so the counts
            // compared below are of a server that has already seen load.
            storm(server, 20, stored, random);
            settle(server);
            long idleRss = server.statusKiB("VmRSS");
            int fdsBefore = server.openFds();
            Map<String, Integer> fdKindsBefore = server.fdTargets();
            int threadsBefore = server.threads();

            StormResult total = new StormResult();
            for (int s = 0; s < storms; s++) {
                StormResult r = storm(server, CLIENTS, stored, random);
                total.add(r);
                assertEquals(0, r.otherStatus.get(), "only 200 or 503 under overload: " + r.others);
                assertTrue(r.accepted.get() > 0, "some requests are admitted");
                assertTrue(r.refused.get() > 0, "the excess is refused");
            }
            settle(server);
            int fdsAfter = server.openFds();
            int threadsAfter = server.threads();
            long peakRss = server.statusKiB("VmHWM");
            assertEquals(200, server.http.get("/_health/ping").status());
            for (String locator : stored) {
                assertEquals(200, server.http.get("/" + locator).status(), "still serving after the storms");
            }

            long buffersKiB = MAX_BUFFERS * 64 * 1024;
            Suite.figure("overload: clients per storm x storms", CLIENTS + " x " + storms);
            Suite.figure("overload: admitted (200) / refused (503)", total.accepted + " / " + total.refused);
            Suite.figure("overload: 503 latency median / max (ms)", total.percentileMillis(50) + " / "
                    + total.percentileMillis(100));
            Suite.figure("overload: RSS after start, no buffers yet (MiB)", startRss / 1024);
            Suite.figure("overload: RSS idle after warm-up (MiB)", idleRss / 1024);
            Suite.figure("overload: peak RSS VmHWM (MiB)", peakRss / 1024);
            Suite.figure("overload: SPEC 7 figure = RSS after start + max-buffers x 64 MiB + 10% (MiB)",
                    (startRss + buffersKiB * 11 / 10) / 1024);
            Suite.figure("overload: fds before / after", fdsBefore + " / " + fdsAfter);
            Suite.figure("overload: threads before / after", threadsBefore + " / " + threadsAfter);

            // No leak: the storms end where the warm-up ended, give or take a few transient
            // descriptors (a log roll, a JIT thread coming or going).
            server.awaitNoFdLeak(fdKindsBefore, 8 + 8, 2);
            assertTrue(threadsAfter <= threadsBefore + 5, "threads leaked: " + threadsBefore + " → " + threadsAfter);
            // Memory: block buffers are bounded by max-buffers; the "fixed JVM overhead" of §7 is
            // the RSS of the started server before any buffer exists, plus a margin for what load
            // itself brings (JIT-compiled code, connection buffers, garbage between collections).
            long boundKiB = startRss + buffersKiB * 11 / 10 + 128 * 1024;
            assertTrue(peakRss <= boundKiB, "peak RSS " + peakRss / 1024 + " MiB over the bound " + boundKiB / 1024);
        }
    }

    /** Waits until the server has no request in flight and idle connections have closed. */
    private static void settle(Keepstore server) throws Exception {
        for (int i = 0; i < 100; i++) {
            String status = server.http.get("/status.json").text();
            if (status.contains("\"BuffersInUse\":0")) {
                break;
            }
            Thread.sleep(100);
        }
        Thread.sleep(2000);
    }

    static final class StormResult {
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final AtomicInteger otherStatus = new AtomicInteger();
        final Map<String, Integer> others = new ConcurrentHashMap<>();
        final List<Long> refusalNanos = Collections.synchronizedList(new ArrayList<>());

        void add(StormResult r) {
            accepted.addAndGet(r.accepted.get());
            refused.addAndGet(r.refused.get());
            otherStatus.addAndGet(r.otherStatus.get());
            refusalNanos.addAll(r.refusalNanos);
        }

        long percentileMillis(int p) {
            List<Long> sorted = new ArrayList<>(refusalNanos);
            if (sorted.isEmpty()) {
                return -1;
            }
            Collections.sort(sorted);
            int i = Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1);
            return TimeUnit.NANOSECONDS.toMillis(sorted.get(Math.max(0, i)));
        }
    }

    /**
     * {@code clients} clients released at once, each with one request on its own connection:
     * half PUT a fresh 4 MiB block, half GET a stored one. 200s are checked for content.
     */
    private static StormResult storm(Keepstore server, int clients, List<String> stored, Random random)
            throws Exception {
        StormResult result = new StormResult();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                boolean put = c % 2 == 0;
                byte[] data = put ? Http.randomBlock((int) (4 * MIB), random) : null;
                String locator = put ? null : stored.get(c % stored.size());
                futures.add(pool.submit(() -> {
                    go.await();
                    long start = System.nanoTime();
                    try (Socket s = server.http.socket()) {
                        String hash = put ? Http.md5(data) : locator.substring(0, 32);
                        String head = put
                                ? "PUT /" + hash + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + data.length
                                        + "\r\nConnection: close\r\n\r\n"
                                : "GET /" + locator + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                        s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
                        if (put) {
                            try {
                                s.getOutputStream().write(data);
                            } catch (IOException e) {
                                // Refused before the body was read; the answer is still there to read.
                            }
                        }
                        InputStream in = s.getInputStream();
                        int status = Http.readStatus(in);
                        if (status == 503) {
                            result.refusalNanos.add(System.nanoTime() - start);
                            result.refused.incrementAndGet();
                        } else if (status == 200) {
                            byte[] body = in.readAllBytes();
                            String text = new String(body, StandardCharsets.ISO_8859_1);
                            int split = text.indexOf("\r\n\r\n");
                            byte[] payload = java.util.Arrays.copyOfRange(body, split + 4, body.length);
                            String expect = put ? hash + "+" + data.length + "\n" : null;
                            boolean ok = put ? new String(payload, StandardCharsets.UTF_8).equals(expect)
                                    : Http.md5(payload).equals(hash);
                            if (!ok) {
                                result.others.merge("200 with wrong body", 1, Integer::sum);
                                result.otherStatus.incrementAndGet();
                            } else {
                                result.accepted.incrementAndGet();
                            }
                        } else {
                            result.others.merge(Integer.toString(status), 1, Integer::sum);
                            result.otherStatus.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(300, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return result;
    }
}
