package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 in the middle of 200+ concurrent PUTs, several rounds, against a server with two
 * directory volumes. After every restart: each acknowledged block is served and verifies, nothing
 * stored under a block's final name (and so nothing in /index) is partial or corrupt, and the
 * temporary files of interrupted writes are gone.
 */
class CrashConsistencyIT {
    private static final int CLIENTS = 200;
    private static final String ADMIN_TOKEN = "crash-admin-token-0123456789abcdef";
    private static final Pattern TEMP_FILE = Pattern.compile("tmp[0-9a-f]{32}.*");

    @TempDir
    Path tmp;

    /** hash → locator of every PUT the server acknowledged with 200, over all rounds. */
    private final Map<String, String> acknowledged = new ConcurrentHashMap<>();

    @Test
    void acknowledgedWritesSurviveKill9() throws Exception {
        int rounds = Suite.setting("keepstore.crash.rounds", 3, 10);
        Path vol0 = Files.createDirectories(tmp.resolve("vol0"));
        Path vol1 = Files.createDirectories(tmp.resolve("vol1"));
        Path token = Suite.secretFile(tmp, "admin-token", ADMIN_TOKEN);
        List<String> flags = List.of("-volume=" + vol0, "-volume=" + vol1, "-data-manager-token-file=" + token,
                "-max-buffers=16", "-max-requests=" + (CLIENTS + 56));
        Random random = new Random();
        int tempFilesSeen = 0;
        java.util.Set<String> unacknowledgedOnDisk = new java.util.HashSet<>();
        for (int round = 1; round <= rounds; round++) {
            try (Keepstore server = Keepstore.start(tmp, "round" + round, List.of("-Xmx1536m"), flags)) {
                verify(server, vol0, vol1);
                int before = acknowledged.size();
                int acked = writeUntilKilled(server, random.nextInt(2500), random.nextLong());
                assertTrue(acked > 0, "round " + round + ": no PUT was acknowledged before the kill");
                System.out.printf("round %d: %d PUTs acknowledged before SIGKILL (%d in total)%n",
                        round, acknowledged.size() - before, acknowledged.size());
            }
            // What the kill left behind, before the next start cleans it.
            tempFilesSeen += tempFiles(vol0).size() + tempFiles(vol1).size();
            for (Path root : List.of(vol0, vol1)) {
                blockFiles(root).stream().map(CrashConsistencyIT::name).filter(h -> !acknowledged.containsKey(h))
                        .forEach(unacknowledgedOnDisk::add);
            }
            if (round == rounds) {
                // A leftover of a write that had not finished, as a crash at another moment leaves it.
                Path planted = vol1.resolve("abc").resolve("tmpabc" + "0".repeat(29) + "4711");
                Files.createDirectories(planted.getParent());
                Files.write(planted, new byte[]{1, 2, 3});
                tempFilesSeen++;
            }
        }
        try (Keepstore server = Keepstore.start(tmp, "final", List.of("-Xmx1536m"), flags)) {
            verify(server, vol0, vol1);
            assertEquals(0, server.terminate(), "graceful stop after the last check");
        }
        Suite.figure("crash: kill -9 rounds survived", rounds);
        Suite.figure("crash: acknowledged PUTs checked", acknowledged.size() + " (0 lost, 0 corrupt)");
        Suite.figure("crash: temp files left by kills and removed on start", tempFilesSeen);
        Suite.figure("crash: complete but unacknowledged blocks found on disk (allowed)", unacknowledgedOnDisk.size());
    }

    /**
     * {@value #CLIENTS} clients PUT random blocks (1 byte to 2 MiB) as fast as the server takes
     * them; after {@code killAfterMillis} the server gets SIGKILL. Returns the number acknowledged.
     */
    private int writeUntilKilled(Keepstore server, long killAfterMillis, long seed) throws Exception {
        AtomicBoolean killed = new AtomicBoolean();
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger started = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                Random random = new Random(seed + c);
                futures.add(clients.submit(() -> {
                    Http http = new Http("127.0.0.1", server.port);
                    while (!killed.get()) {
                        int size = random.nextInt(8) == 0 ? 1 + random.nextInt(2 << 20) : 1 + random.nextInt(64 << 10);
                        byte[] data = Http.randomBlock(size, random);
                        started.incrementAndGet();
                        try {
                            String locator = http.putBlock(data);
                            if (locator != null) {
                                acknowledged.put(Http.md5(data), locator);
                                acked.incrementAndGet();
                            }
                        } catch (IOException e) {
                            // The server died under this request: it was never acknowledged.
                        }
                    }
                    return null;
                }));
            }
            // Kill only once every client has a request in flight and some writes were acknowledged,
            // so the kill lands mid-write with something to check afterwards.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while ((started.get() < CLIENTS || acked.get() == 0) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(killAfterMillis);
            killed.set(true);
            server.kill9();
            for (Future<?> f : futures) {
                f.get(180, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        return acked.get();
    }

    /** Every acknowledged block reads back whole and verified; index and disk hold only good blocks. */
    private void verify(Keepstore server, Path... roots) throws Exception {
        for (Path root : roots) {
            assertEquals(List.of(), tempFiles(root), "temporary files of interrupted writes are removed on start");
        }
        ExecutorService readers = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> checks = new ArrayList<>();
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                checks.add(readers.submit(() -> {
                    Http.Response r = server.http.get("/" + e.getValue());
                    if (r.status() != 200) {
                        return e.getKey() + ": status " + r.status() + " " + r.text();
                    }
                    return Http.md5(r.body()).equals(e.getKey()) ? null : e.getKey() + ": served data does not match";
                }));
            }
            List<String> failures = new ArrayList<>();
            for (Future<String> f : checks) {
                String failure = f.get(300, TimeUnit.SECONDS);
                if (failure != null) {
                    failures.add(failure);
                }
            }
            assertEquals(List.of(), failures, "acknowledged blocks lost or corrupt");
        } finally {
            readers.shutdownNow();
        }
        // Whatever sits under a final name is complete: its content hashes to its name.
        for (Path root : roots) {
            for (Path file : blockFiles(root)) {
                assertEquals(name(file), Http.md5(Files.readAllBytes(file)), "partial or corrupt block " + file);
            }
        }
        Http.Response index = server.http.get("/index", "Authorization", "Bearer " + ADMIN_TOKEN);
        assertEquals(200, index.status());
        String text = index.text();
        assertTrue(text.endsWith("\n\n") || text.equals("\n"), "index is complete");
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String hash = line.substring(0, 32);
            long size = Long.parseLong(line.substring(33, line.indexOf(' ')));
            assertFalse(line.contains("tmp"), line);
            boolean present = false;
            for (Path root : roots) {
                Path f = root.resolve(hash.substring(0, 3)).resolve(hash);
                if (Files.isRegularFile(f)) {
                    present = true;
                    assertEquals(size, Files.size(f), "index size of " + hash);
                }
            }
            assertTrue(present, "indexed block " + hash + " exists");
        }
    }

    private static List<Path> tempFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root, 2)) {
            return s.filter(p -> TEMP_FILE.matcher(p.getFileName().toString()).matches()).toList();
        }
    }

    private static List<Path> blockFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root, 2)) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9a-f]{32}") && Files.isRegularFile(p)).toList();
        }
    }

    private static String name(Path file) {
        return file.getFileName().toString();
    }
}
