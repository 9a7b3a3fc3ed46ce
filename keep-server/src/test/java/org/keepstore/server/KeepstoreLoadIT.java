package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 64 clients against {@code -max-buffers=4 -max-requests=16}: every answer is a success or an
 * immediate 503, the server never runs out of memory and stays healthy. Prints the peak RSS for
 * comparison with max-buffers × 64 MiB; asserts nothing about time.
 */
class KeepstoreLoadIT {
    private static final int CLIENTS = 64;
    private static final int ROUNDS = 6;
    private static final int BLOCK_SIZE = 4 * 1024 * 1024;

    @TempDir
    Path tmp;

    @Test
    void excessRequestsGet503AndTheServerStaysHealthy() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        int port = ServerProcess.freePort();
        try (ServerProcess server = ServerProcess.start(tmp, List.of(), List.of("-listen=127.0.0.1:" + port,
                "-volume=" + vol, "-max-buffers=4", "-max-requests=16"))) {
            TestHttp health = server.awaitHealthy(port);
            List<byte[]> blocks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                blocks.add(TestHttp.randomBlock(BLOCK_SIZE, 100 + i));
            }
            Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    TestHttp http = new TestHttp("127.0.0.1", port);
                    go.await();
                    for (int round = 0; round < ROUNDS; round++) {
                        byte[] block = blocks.get((client + round) % blocks.size());
                        String hash = TestHttp.md5(block);
                        TestHttp.Response r = round % 2 == 0
                                ? http.put("/" + hash, block)
                                : http.get("/" + hash + "+" + block.length);
                        statuses.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : clients) {
                f.get();
            }
            pool.shutdown();

            assertTrue(server.process.isAlive(), "the server survived");
            assertEquals(200, health.get("/_health/ping").status());
            assertEquals(200, health.get("/status.json").status());
            for (int status : statuses.keySet()) {
                // 404: a GET that raced ahead of the PUT of the same block (which got 503).
                assertTrue(status == 200 || status == 503 || status == 404, "unexpected status " + status);
            }
            long peakRss = peakRssBytes(server.process.pid());
            System.out.printf("load: statuses %s; peak RSS %d MiB (max-buffers x 64 MiB = 256 MiB)%n",
                    statuses, peakRss >> 20);
            String log = server.stderrText();
            assertTrue(!log.contains("OutOfMemoryError"), "no OutOfMemoryError");
            assertEquals(0, server.terminate());
        }
    }

    /** VmHWM: the process's peak resident set size. */
    static long peakRssBytes(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
            }
        }
        return -1;
    }
}
