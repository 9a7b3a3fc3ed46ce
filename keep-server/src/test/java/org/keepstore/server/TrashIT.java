package org.keepstore.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Trash lists, DELETE, untrash and the trash emptier on a real server process. Blocks are
 * planted in the directory volume with an mtime a month old, so the signature TTL does not
 * protect them and no test waits for it.
 */
class TrashIT {

    @TempDir
    Path dir;

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    /** Writes a block file as the reference keepstore lays it out, a month old; returns its hash. */
    private static String plantOldBlock(ClusterServer server, String content) throws Exception {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        String hash = md5(data);
        Path file = server.blockFile(hash);
        Files.createDirectories(file.getParent());
        Files.write(file, data);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofDays(30))));
        return hash;
    }

    /** The block's mtime in nanoseconds as the server's index reports it. */
    private static long indexedMtime(ClusterServer server, String hash) throws Exception {
        HttpResponse<String> index = server.admin("GET", "/index/" + hash, null);
        assertEquals(200, index.statusCode(), index.body());
        for (String line : index.body().split("\n")) {
            if (line.startsWith(hash + "+")) {
                return Long.parseLong(line.substring(line.indexOf(' ') + 1));
            }
        }
        throw new AssertionError(hash + " not in index: " + index.body());
    }

    private static boolean inIndex(ClusterServer server, String hash) throws Exception {
        return server.admin("GET", "/index/" + hash, null).body().contains(hash + "+");
    }

    private static String trashItem(String hash, long mtime) {
        return "{\"locator\":\"" + hash + "\",\"block_mtime\":" + mtime + ",\"mount_uuid\":\"\"}";
    }

    private static List<Path> trashFiles(ClusterServer server, String hash) throws IOException {
        try (Stream<Path> files = Files.list(server.blockFile(hash).getParent())) {
            return files.filter(p -> p.getFileName().toString().startsWith(hash + ".trash.")).toList();
        }
    }

    @Test
    void neverDeleteIsTheDefaultAndRemovesNothing() throws Exception {
        try (ClusterServer server = new ClusterServer(dir)) {
            String hash = plantOldBlock(server, "never deleted");
            long mtime = indexedMtime(server, hash);
            assertTrue(server.logLines().stream().anyMatch(l -> l.contains("never-delete")),
                    "startup log must say whether deletion is disabled");

            assertEquals(405, server.admin("DELETE", "/" + hash, null).statusCode());
            assertEquals(200, server.admin("PUT", "/trash", "[" + trashItem(hash, mtime) + "]").statusCode());
            server.awaitQueueIdle("TrashQueue");

            assertTrue(Files.exists(server.blockFile(hash)));
            assertTrue(inIndex(server, hash));
        }
    }

    @Test
    void trashListTrashesOnlyExactMtimesAndUntrashRestores() throws Exception {
        try (ClusterServer server = new ClusterServer(dir, "-never-delete=false", "-trash-lifetime=1h")) {
            String kept = plantOldBlock(server, "mtime does not match");
            String trashed = plantOldBlock(server, "mtime matches");
            long keptMtime = indexedMtime(server, kept);
            long trashedMtime = indexedMtime(server, trashed);

            HttpResponse<String> r = server.admin("PUT", "/trash",
                    "[" + trashItem(kept, keptMtime + 1) + "," + trashItem(trashed, trashedMtime) + "]");
            assertEquals(200, r.statusCode(), r.body());
            server.awaitQueueIdle("TrashQueue");

            assertTrue(inIndex(server, kept));
            assertFalse(inIndex(server, trashed));
            assertFalse(Files.exists(server.blockFile(trashed)));
            assertEquals(1, trashFiles(server, trashed).size());

            assertEquals(200, server.admin("PUT", "/untrash/" + trashed, null).statusCode());
            assertTrue(inIndex(server, trashed));
            assertTrue(Files.exists(server.blockFile(trashed)));
        }
    }

    @Test
    void blocksYoungerThanTheSignatureTtlAreNotTrashed() throws Exception {
        try (ClusterServer server = new ClusterServer(dir, "-never-delete=false", "-trash-lifetime=1h")) {
            String hash = plantOldBlock(server, "freshly written");
            Files.setLastModifiedTime(server.blockFile(hash), FileTime.from(Instant.now()));
            long mtime = indexedMtime(server, hash);

            server.admin("PUT", "/trash", "[" + trashItem(hash, mtime) + "]");
            server.awaitQueueIdle("TrashQueue");

            assertTrue(inIndex(server, hash));
        }
    }

    @Test
    void emptierDeletesExpiredTrashForGood() throws Exception {
        try (ClusterServer server = new ClusterServer(dir, "-never-delete=false",
                "-trash-lifetime=1s", "-trash-check-interval=200ms")) {
            String hash = plantOldBlock(server, "deleted for good");
            assertEquals(200, server.admin("DELETE", "/" + hash, null).statusCode());
            assertFalse(inIndex(server, hash));

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!trashFiles(server, hash).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(trashFiles(server, hash).isEmpty(), "expired trash was not emptied");
            assertEquals(404, server.admin("PUT", "/untrash/" + hash, null).statusCode());
        }
    }
}
