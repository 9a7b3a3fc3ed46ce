package org.keepstore.volumes.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.VolumeContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kill -9 in the middle of writes: a child JVM ({@link CrashingWriter}) writes blocks and
 * reports each one once acknowledged; the test kills it at a random point, then checks that
 * every acknowledged block is intact, that nothing partial is visible under a final name, and
 * that reopening the volume removes the temporary files the kill left behind. The kill is
 * triggered by progress (a random number of acknowledged writes plus a random pause), not by a
 * timing threshold.
 */
class DirectoryVolumeCrashTest {
    private static final Logger log = LoggerFactory.getLogger(DirectoryVolumeCrashTest.class);
    private static final int ROUNDS = 6;

    @TempDir
    Path root;

    @Test
    void acknowledgedBlocksSurviveSigkillAndNothingPartialIsVisible() throws Exception {
        Random random = new Random();
        Set<String> acknowledged = new HashSet<>();
        int tempFilesLeft = 0;
        for (int round = 0; round < ROUNDS; round++) {
            List<String> acked = runAndKill(random.nextLong(), 1 + random.nextInt(40), random.nextInt(300));
            acknowledged.addAll(acked);
            int leftovers = countTempFiles();
            tempFilesLeft += leftovers;

            try (DirectoryVolume volume = new DirectoryVolume(root, VolumeContext.defaults())) {
                assertEquals(0, countTempFiles(), "temp files must be removed when the volume opens");
                for (String hash : acknowledged) {
                    assertEquals(hash, md5Of(volume, hash), "acknowledged block " + hash + " lost or corrupt");
                }
                List<String> indexed = new ArrayList<>();
                volume.index("", (hash, size, mtime) -> indexed.add(hash));
                assertTrue(indexed.containsAll(acknowledged));
                // Blocks whose write returned but whose line the kill cut off: at most one per writer thread.
                assertTrue(indexed.size() - acknowledged.size() <= (round + 1) * CrashingWriter.THREADS,
                        indexed.size() + " indexed vs " + acknowledged.size() + " acknowledged");
                for (String hash : indexed) {
                    assertEquals(hash, md5Of(volume, hash), "partial or corrupt block under final name " + hash);
                }
                log.info("round {}: {} acknowledged this round, {} in total, {} indexed, {} temp files left by the kill",
                        round, acked.size(), acknowledged.size(), indexed.size(), leftovers);
            }
        }
        log.info("{} rounds of kill -9: {} acknowledged blocks, 0 lost, 0 corrupt, {} temp files cleaned up",
                ROUNDS, acknowledged.size(), tempFilesLeft);
        assertFalse(acknowledged.isEmpty());
    }

    /**
     * Starts the writer, waits for {@code ackTarget} acknowledgements and {@code pauseMillis},
     * kills it. The writer appends its acknowledgements to a file, one write per line: what a
     * write call put in a file survives the kill of its process, while the JDK's pipe from a
     * killed child may be closed under its reader before everything was read.
     */
    private List<String> runAndKill(long seed, int ackTarget, int pauseMillis) throws Exception {
        Path acks = Files.createTempFile("crash-writer-acks", ".txt");
        try {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    CrashingWriter.class.getName(), root.toString(), Long.toString(seed), acks.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try {
                // A generous bound so a hung child fails the test instead of hanging the build.
                long giveUpAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
                int seen;
                while ((seen = acknowledgedIn(acks).size()) < ackTarget) {
                    if (System.nanoTime() > giveUpAt) {
                        throw new AssertionError("writer made no progress: " + seen + " of " + ackTarget + " writes");
                    }
                    if (!child.isAlive()) {
                        throw new AssertionError("writer exited on its own with status " + child.exitValue());
                    }
                    Thread.sleep(10);
                }
                Thread.sleep(pauseMillis);
            } finally {
                child.destroyForcibly(); // SIGKILL on Unix
                child.waitFor(60, TimeUnit.SECONDS);
            }
            return acknowledgedIn(acks);
        } finally {
            Files.deleteIfExists(acks);
        }
    }

    /** The complete lines of the file; a line cut by the kill is not an acknowledgement. */
    private static List<String> acknowledgedIn(Path acks) throws IOException {
        List<String> acked = new ArrayList<>();
        for (String line : Files.readAllLines(acks, StandardCharsets.US_ASCII)) {
            if (line.matches("[0-9a-f]{32}")) {
                acked.add(line);
            }
        }
        return acked;
    }

    private int countTempFiles() throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return (int) files.filter(p -> p.getFileName().toString().startsWith("tmp")).count();
        }
    }

    private static String md5Of(DirectoryVolume volume, String hash) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        try (StoredBlock b = volume.open(hash)) {
            byte[] chunk = new byte[1 << 16];
            long total = 0;
            for (int n; (n = b.stream().read(chunk)) > 0; ) {
                md5.update(chunk, 0, n);
                total += n;
            }
            assertEquals(b.size(), total);
        }
        return HexFormat.of().formatHex(md5.digest());
    }
}
