package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends {@code -Dkeepstore.fuzz.requests} (10,000 in the shortened run, 100,000 in the full one)
 * malformed or random requests over raw sockets (see {@link RequestFuzzer}) to a server with
 * permissions enforced, an admin token and trash enabled. The server must never exit, never answer
 * 5xx to any of them, never touch files outside its volumes (a canary directory beside them is
 * compared byte for byte), log no unexpected errors, and still serve good requests afterwards.
 * {@code -Dkeepstore.fuzz.seed=N} replays a run.
 */
class HttpFuzzIT {
    private static final String ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef";
    private static final String SIGNING_KEY = "fuzz-signing-key-0123456789abcdef0123456789";
    private static final int THREADS = 8;

    @TempDir
    Path tmp;

    @Test
    void hostileRequestsNeverCrashOrGet5xx() throws Exception {
        int requests = Suite.setting("keepstore.fuzz.requests", 10_000, 100_000);
        long seed = Long.getLong("keepstore.fuzz.seed", new Random().nextLong());
        System.out.println("fuzz seed " + seed + " (-Dkeepstore.fuzz.seed=" + seed + " replays it)");
        Path vol0 = Files.createDirectories(tmp.resolve("vols/vol0"));
        Path vol1 = Files.createDirectories(tmp.resolve("vols/vol1"));
        Path canary = Files.createDirectories(tmp.resolve("canary"));
        Files.writeString(canary.resolve("secret.txt"), "canary: nothing may read, change or delete this\n");
        Files.createDirectories(canary.resolve("d41"));
        Files.writeString(canary.resolve("d41").resolve("d41d8cd98f00b204e9800998ecf8427e"), "not a block\n");
        Path key = Suite.secretFile(tmp, "key", SIGNING_KEY);
        Path token = Suite.secretFile(tmp, "token", ADMIN_TOKEN);
        Map<String, String> canaryBefore = snapshot(canary);
        Path logs = Files.createDirectories(tmp.resolve("logs"));

        try (Keepstore server = Keepstore.start(logs, "fuzz", List.of("-Xmx512m"), List.of(
                "-volume=" + vol0, "-volume=" + vol1, "-enforce-permissions", "-blob-signing-key-file=" + key,
                "-data-manager-token-file=" + token, "-never-delete=false", "-trash-lifetime=1h",
                "-max-buffers=8", "-max-requests=64"))) {
            List<String> stored = new ArrayList<>();
            Random random = new Random(seed);
            for (int i = 0; i < 5; i++) {
                stored.add(server.http.putBlock(Http.randomBlock(1 + random.nextInt(10_000), random),
                        "Authorization", "Bearer client-token"));
            }
            int fdsBefore = server.openFds();
            Map<String, Integer> fdKindsBefore = server.fdTargets();
            RequestFuzzer fuzzer = new RequestFuzzer(ADMIN_TOKEN, stored);
            Map<Integer, AtomicLong> statuses = new ConcurrentSkipListMap<>();
            Map<String, String> serverErrors = new ConcurrentHashMap<>();
            AtomicLong hung = new AtomicLong();
            AtomicLong closedFramed = new AtomicLong();
            long start = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int first = t;
                    workers.add(pool.submit(() -> {
                        for (int i = first; i < requests; i += THREADS) {
                            RequestFuzzer.Case c = fuzzer.make(seed + i);
                            int status = exchange(server, c);
                            if (status == -2) {
                                hung.incrementAndGet();
                                serverErrors.putIfAbsent("no answer within 30s to case " + (seed + i), c.summary());
                            }
                            statuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
                            if (status == -1 && c.framed()) {
                                closedFramed.incrementAndGet();
                            }
                            if (status >= 500 && !(status == 507 && c.asksUnknownClass())) {
                                serverErrors.putIfAbsent(status + " for case " + (seed + i), c.summary());
                            }
                            if (i % 1000 == first && !server.process.isAlive()) {
                                throw new AssertionError("keepstore exited during fuzzing");
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> w : workers) {
                    w.get(60, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
            Map<Integer, Long> summary = new TreeMap<>();
            statuses.forEach((k, v) -> summary.put(k, v.get()));
            System.out.println("statuses (-1 = connection closed without an answer): " + summary);

            assertTrue(server.process.isAlive(), "keepstore survived the fuzzing");
            assertEquals(Map.of(), serverErrors, "5xx answers or hangs for client mistakes");
            // Good requests still work, on a fresh connection.
            byte[] data = Http.randomBlock(50_000, random);
            String locator = server.http.putBlock(data, "Authorization", "Bearer client-token");
            assertNotNull(locator);
            Http.Response r = server.http.get("/" + locator, "Authorization", "Bearer client-token");
            assertEquals(200, r.status());
            assertEquals(Http.md5(data), Http.md5(r.body()));
            for (String s : stored) {
                assertEquals(200, server.http.get("/" + s, "Authorization", "Bearer client-token").status());
            }
            assertEquals(200, server.http.get("/index", "Authorization", "Bearer " + ADMIN_TOKEN).status());
            Thread.sleep(2000);
            int fdsAfter = server.openFds();
            // One known exception: Undertow's chunked-trailer parser throws on a trailer line without
            // a name while draining the body of an answered request, and logs UT005090 at ERROR. The
            // connection is closed and nothing else happens; it is counted, not failed.
            List<String> logLines = server.logText().lines().toList();
            List<String> errors = new ArrayList<>();
            int undertowTrailerErrors = 0;
            for (int i = 0; i < logLines.size(); i++) {
                if (!logLines.get(i).contains(" ERROR ")) {
                    continue;
                }
                boolean trailerBug = logLines.get(i).contains("UT005090")
                        && String.join("\n", logLines.subList(i + 1, Math.min(logLines.size(), i + 9)))
                                .contains("ChunkReader$TrailerParser");
                if (trailerBug) {
                    undertowTrailerErrors++;
                } else if (errors.size() < 5) {
                    errors.add(String.join("\n", logLines.subList(i, Math.min(logLines.size(), i + 6))));
                }
            }
            assertEquals(List.of(), errors, "unexpected errors logged while fuzzing");
            assertEquals(canaryBefore, snapshot(canary), "the canary directory beside the volumes is untouched");
            Map<String, Integer> fdKindsAfter = server.fdTargets();
            server.awaitNoFdLeak(fdKindsBefore, 64 + 8, 2);
            assertEquals(0, server.terminate(), "clean stop after fuzzing");

            Suite.figure("fuzz: requests sent / crashes / 5xx / hangs", requests + " / 0 / 0 / " + hung.get());
            Suite.figure("fuzz: statuses seen (-1 = closed without answer)", summary);
            Suite.figure("fuzz: complete requests closed without an answer (huge or broken headers)",
                    closedFramed.get());
            Suite.figure("fuzz: requests per second", requests / seconds);
            Suite.figure("fuzz: Undertow UT005090 (malformed chunk trailer) ERROR lines", undertowTrailerErrors);
            Suite.figure("fuzz: fds before / after", fdsBefore + " / " + fdsAfter + " (after: " + fdKindsAfter + ")");
        }
        // Nothing was created next to the volumes either (only what the test made itself).
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("canary", "key", "logs", "token", "vols"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    /**
     * Sends one case on its own connection; returns the status, -1 if the server closed the
     * connection without answering, -2 if it neither answered nor closed within 30 s.
     */
    private static int exchange(Keepstore server, RequestFuzzer.Case c) throws IOException {
        try (Socket s = server.http.socket()) {
            s.setSoTimeout(30_000);
            try {
                s.getOutputStream().write(c.bytes());
                s.getOutputStream().flush();
                if (!c.framed()) {
                    // The request is incomplete by design: the end of input is all the server gets.
                    s.shutdownOutput();
                }
            } catch (IOException e) {
                // The server answered early (e.g. 431, 400) and closed; read what it said.
            }
            try {
                java.io.InputStream in = s.getInputStream();
                int status = Http.readStatus(in);
                while (status >= 100 && status < 200) {
                    // An interim answer (100 Continue): skip its headers, the final one follows.
                    while (!Http.readLine(in).isEmpty()) {
                        // header of the interim response
                    }
                    status = Http.readStatus(in);
                }
                return status;
            } catch (SocketTimeoutException e) {
                return -2;
            } catch (IOException e) {
                return -1;
            }
        }
    }

    private static String sockets(Keepstore server) {
        try {
            Process p = new ProcessBuilder("ss", "-tanp").redirectErrorStream(true).start();
            String all = new String(p.getInputStream().readAllBytes());
            return all.lines().filter(l -> l.contains("pid=" + server.pid() + ",")).limit(40)
                    .collect(java.util.stream.Collectors.joining("\n"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Every file under {@code dir} with its content hash and modification time. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                String value = Files.isDirectory(p) ? "dir"
                        : Http.md5(Files.readAllBytes(p)) + " " + Files.getLastModifiedTime(p).toMillis();
                files.put(dir.relativize(p).toString(), value);
            }
        }
        return files;
    }
}
