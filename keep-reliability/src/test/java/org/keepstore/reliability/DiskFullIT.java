package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.volumes.directory.SmallFilesystem;

/**
 * Two directory volumes, each on a small tmpfs the test mounts, filled through the server: writes
 * move to the volume that still has room, then every PUT gets 507; what was stored stays intact;
 * the {@code full} marker of SPEC §8 appears and is honoured for its hour; space freed plus an
 * expired (or removed) marker → writes resume. The volume-level tmpfs test in keep-volumes covers
 * ENOSPC inside one volume; this one covers the server's failover and status codes.
 *
 * <p>The marker's one-hour memory cannot be waited out in a test and the server takes no clock
 * from outside, so the test does what an operator (or the passing hour) does: it rewrites the
 * marker with a time more than an hour ago, and on the other volume removes it.
 */
class DiskFullIT {
    private static final String ADMIN_TOKEN = "diskfull-admin-token-0123456789";
    private static final int BLOCK = 12 << 20;

    @TempDir
    Path tmp;

    private final List<Path> mounted = new ArrayList<>();

    @AfterEach
    void unmount() throws Exception {
        for (Path p : mounted) {
            if (SmallFilesystem.run(List.of("umount", p.toString())) != 0) {
                SmallFilesystem.run(List.of("umount", "-l", p.toString()));
            }
        }
    }

    private Path smallTmpfs(String name, String size) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        int rc = SmallFilesystem.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()));
        Assumptions.assumeTrue(rc == 0, "cannot mount a tmpfs here (needs root and mount permission): "
                + "skipping the server-level disk-full test");
        mounted.add(dir);
        return Files.createDirectories(dir.resolve("keep"));
    }

    @Test
    void fillsOneVolumeThenTheOtherThen507AndResumesWhenSpaceIsFreed() throws Exception {
        Path volA = smallTmpfs("fsA", "160m");
        Path volB = smallTmpfs("fsB", "200m");
        Path token = Suite.secretFile(tmp, "admin-token", ADMIN_TOKEN);
        try (Keepstore server = Keepstore.start(tmp, "diskfull", List.of("-Xmx1g"), List.of(
                "-volume=" + volA, "-volume=" + volB, "-data-manager-token-file=" + token, "-max-buffers=4"))) {
            List<Mounts.MountInfo> mounts = Mounts.list(server.http, ADMIN_TOKEN);
            Map<String, String> stored = new ConcurrentHashMap<>();
            Random random = new Random();

            // Four writers at a time, so some writes also meet a real ENOSPC, not only the marker.
            // Every block has A first in rendezvous order, so A fills first and the failover to B
            // is certain rather than left to where random hashes happen to fall.
            int firstFull = -1;
            boolean wroteToBWhileAFull = false;
            int statusWhenFull = 0;
            String bodyWhenFull = "";
            ExecutorService writers = Executors.newFixedThreadPool(4);
            try {
                for (int batch = 0; batch < 20 && statusWhenFull == 0; batch++) {
                    boolean aFullBefore = Files.isSymbolicLink(volA.resolve("full"));
                    List<Future<Http.Response>> puts = new ArrayList<>();
                    List<byte[]> blocks = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        byte[] data = blockFirstOn(mounts.get(0), mounts, random, BLOCK);
                        blocks.add(data);
                        puts.add(writers.submit(() -> server.http.put("/" + Http.md5(data), data)));
                    }
                    for (int i = 0; i < puts.size(); i++) {
                        Http.Response r = puts.get(i).get(120, TimeUnit.SECONDS);
                        String hash = Http.md5(blocks.get(i));
                        if (r.status() == 200) {
                            stored.put(hash, r.text().trim());
                            if (aFullBefore && Files.exists(volB.resolve(hash.substring(0, 3)).resolve(hash))) {
                                wroteToBWhileAFull = true;
                            }
                        } else {
                            assertEquals(507, r.status(), "a PUT that cannot be stored: " + r.text());
                            statusWhenFull = r.status();
                            bodyWhenFull = r.text();
                            firstFull = stored.size();
                        }
                    }
                }
            } finally {
                writers.shutdownNow();
            }
            assertEquals(507, statusWhenFull, "PUTs get 507 once both volumes are full");
            assertTrue(bodyWhenFull.contains("insufficient storage"), bodyWhenFull);
            assertTrue(wroteToBWhileAFull, "while A was marked full, writes went to B");
            Suite.figure("disk full: 12 MiB blocks stored before 507 (160 MiB + 200 MiB tmpfs)", firstFull);

            // Both volumes carry the marker: a symlink whose target is the Unix time it was set.
            long now = System.currentTimeMillis() / 1000;
            for (Path vol : List.of(volA, volB)) {
                Path marker = vol.resolve("full");
                assertTrue(Files.isSymbolicLink(marker), "full marker in " + vol);
                long markedAt = Long.parseLong(Files.readSymbolicLink(marker).toString());
                assertTrue(Math.abs(now - markedAt) < 3600, "marker holds the current Unix time: " + markedAt);
            }
            assertNoTempFiles(volA, volB);
            assertAllServed(server, stored);

            // Free space: both filesystems grow. The markers still say full for their hour.
            assertEquals(0, SmallFilesystem.run(List.of("mount", "-o", "remount,size=600m", volA.getParent().toString())));
            assertEquals(0, SmallFilesystem.run(List.of("mount", "-o", "remount,size=600m", volB.getParent().toString())));
            byte[] early = Http.randomBlock(1 << 20, random);
            assertEquals(507, server.http.put("/" + Http.md5(early), early).status(),
                    "a fresh full marker is trusted for an hour (SPEC §8), even after space is freed");

            // A's marker is now older than an hour: A is looked at again and takes writes.
            Path markerA = volA.resolve("full");
            Files.delete(markerA);
            Files.createSymbolicLink(markerA, Path.of(Long.toString(now - 3700)));
            byte[] onA = blockFirstOn(mounts.get(0), mounts, random);
            assertNotNull(server.http.putBlock(onA), "write resumes on A once its marker has expired");
            assertTrue(Files.exists(blockPath(volA, onA)));
            assertTrue(Files.isSymbolicLink(volB.resolve("full")), "B is still marked");
            stored.put(Http.md5(onA), server.http.putBlock(onA));

            // B's marker removed by the operator: B takes the writes whose first choice it is.
            Files.delete(volB.resolve("full"));
            byte[] onB = blockFirstOn(mounts.get(1), mounts, random);
            assertNotNull(server.http.putBlock(onB), "write resumes on B once its marker is removed");
            assertTrue(Files.exists(blockPath(volB, onB)), "the block went to B, its first choice");
            assertFalse(Files.exists(blockPath(volA, onB)));
            stored.put(Http.md5(onB), server.http.putBlock(onB));

            assertAllServed(server, stored);
            assertNoTempFiles(volA, volB);
        }
    }

    private static byte[] blockFirstOn(Mounts.MountInfo target, List<Mounts.MountInfo> mounts, Random random) {
        return blockFirstOn(target, mounts, random, 1 << 20);
    }

    /** A random block of {@code size} bytes whose rendezvous order starts with {@code target}. */
    private static byte[] blockFirstOn(Mounts.MountInfo target, List<Mounts.MountInfo> mounts, Random random,
                                       int size) {
        while (true) {
            byte[] data = Http.randomBlock(size, random);
            if (Mounts.rendezvous(Http.md5(data), mounts).get(0).equals(target)) {
                return data;
            }
        }
    }

    private static Path blockPath(Path vol, byte[] data) {
        String hash = Http.md5(data);
        return vol.resolve(hash.substring(0, 3)).resolve(hash);
    }

    private static void assertAllServed(Keepstore server, Map<String, String> stored) throws Exception {
        for (Map.Entry<String, String> e : stored.entrySet()) {
            Http.Response r = server.http.get("/" + e.getValue());
            assertEquals(200, r.status(), e.getKey());
            assertEquals(e.getKey(), Http.md5(r.body()), "stored block undamaged");
        }
    }

    private static void assertNoTempFiles(Path... vols) throws Exception {
        for (Path vol : vols) {
            try (Stream<Path> s = Files.walk(vol, 2)) {
                assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith("tmp")).toList(),
                        "no temporary files left behind by writes that ran out of space");
            }
        }
    }
}
