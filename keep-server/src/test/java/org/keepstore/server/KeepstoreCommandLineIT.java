package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Mount;

/** The command line of SPEC §10 against the real process: usage, exit codes, startup errors, pid file, signals. */
class KeepstoreCommandLineIT {
    @TempDir
    Path tmp;

    private ServerProcess run(String... args) throws Exception {
        return ServerProcess.start(tmp, List.of(), List.of(args));
    }

    private static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                out.add(line);
            }
        }
        return out;
    }

    @Test
    void helpPrintsGoStyleUsageAndExitsZero() throws Exception {
        for (String flag : List.of("-h", "-help", "--help")) {
            try (ServerProcess p = run(flag)) {
                assertEquals(0, p.waitForExit(), flag);
                String usage = p.stderrText();
                assertTrue(usage.startsWith("Usage of keepstore:\n"), usage);
                for (String name : List.of("listen", "volume", "volumes", "readonly", "serialize",
                        "enforce-permissions", "blob-signing-key-file", "permission-key-file", "blob-signature-ttl",
                        "permission-ttl", "data-manager-token-file", "never-delete", "trash-lifetime",
                        "trash-check-interval", "max-buffers", "max-requests", "pid", "config", "s3-bucket-volume",
                        "s3-endpoint", "s3-region", "s3-access-key-file", "s3-secret-key-file", "s3-replication",
                        "s3-unsafe-delete", "s3-race-window", "azure-storage-container-volume",
                        "azure-storage-account-name", "azure-storage-account-key-file", "azure-storage-replication",
                        "azure-max-get-bytes")) {
                    assertTrue(usage.contains("\n  -" + name + " ") || usage.contains("\n  -" + name + "\n"), name);
                }
                assertTrue(usage.contains("\n    \t"));
            }
        }
    }

    @Test
    void unknownFlagPrintsUsageAndExitsTwo() throws Exception {
        try (ServerProcess p = run("-no-such-flag")) {
            assertEquals(2, p.waitForExit());
            String err = p.stderrText();
            assertTrue(err.startsWith("flag provided but not defined: -no-such-flag\n"), err);
            assertTrue(err.contains("Usage of keepstore:"));
        }
    }

    @Test
    void startupErrorsAreOneLineAndNonZero() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        Path key = KeepstoreProcessIT.secretFile(tmp, "key", "k");
        int port = ServerProcess.freePort();
        String listen = "-listen=127.0.0.1:" + port;
        List<List<String>> cases = List.of(
                List.of(listen, "-volume=" + tmp.resolve("missing")),
                List.of(listen, "-volume=relative/path"),
                List.of(listen, "-volume=" + vol, "-blob-signing-key-file=" + tmp.resolve("no-key")),
                List.of(listen, "-volume=" + vol, "-data-manager-token-file=" + tmp.resolve("no-token")),
                List.of(listen, "-volume=" + vol, "-enforce-permissions"),
                List.of(listen, "-volume=" + vol, "-max-buffers=many"),
                List.of(listen, "-volume=" + vol, "-trash-lifetime=2d"),
                List.of(listen, "-volume=" + vol, "-never-delete=perhaps"),
                List.of(listen, "-volume=" + vol, "-blob-signing-key-file=" + key, "-listen=not-an-address"),
                List.of(listen, "-volume=" + vol, "stray-argument"),
                List.of(listen, "-volume="),
                List.of(listen, "-volume=" + vol, "-volume=" + vol),
                // The .invalid domain never resolves (RFC 6761).
                List.of("-listen=no-such-host.invalid:" + port, "-volume=" + vol));
        for (List<String> args : cases) {
            try (ServerProcess p = ServerProcess.start(tmp, List.of(), args)) {
                int status = p.waitForExit();
                assertNotEquals(0, status, args.toString());
                List<String> err = lines(p.stderrText());
                assertEquals(1, err.size(), args + ": " + err);
                assertFalse(err.get(0).endsWith("null"), args + ": " + err);
                assertTrue(p.stdoutText().isEmpty());
            }
        }
    }

    @Test
    void aWritableVolumeTheServerCannotWriteToIsAStartupError() throws Exception {
        Path ro = Files.createDirectories(tmp.resolve("read-only-fs"));
        int mounted = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", ro.toString())
                .redirectErrorStream(true).start().waitFor();
        assumeTrue(mounted == 0, "cannot mount a tmpfs here (needs root)");
        try {
            Files.createDirectory(ro.resolve("keep"));
            assertEquals(0, new ProcessBuilder("mount", "-o", "remount,ro", ro.toString())
                    .redirectErrorStream(true).start().waitFor());
            int port = ServerProcess.freePort();
            try (ServerProcess p = ServerProcess.start(tmp, List.of(),
                    List.of("-listen=127.0.0.1:" + port, "-volume=" + ro))) {
                assertNotEquals(0, p.waitForExit());
                List<String> err = lines(p.stderrText());
                assertEquals(1, err.size(), err.toString());
                assertTrue(err.get(0).contains("cannot write to it") && err.get(0).contains("-readonly"), err.get(0));
            }
            // Served read-only when it is declared so.
            try (ServerProcess p = ServerProcess.start(tmp, List.of(),
                    List.of("-listen=127.0.0.1:" + port, "-readonly", "-volume=" + ro))) {
                assertEquals(200, p.awaitHealthy(port).get("/_health/ping").status());
                assertEquals(0, p.terminate());
            }
            // Found without -volume, on a disk the mounts table calls writable: served read-only.
            Path mounts = tmp.resolve("mounts-ro");
            Files.writeString(mounts, "tmpfs " + ro + " tmpfs rw 0 0\n");
            Path token = KeepstoreProcessIT.secretFile(tmp, "token-ro", "admin");
            try (ServerProcess p = ServerProcess.start(tmp, List.of("-D" + Main.MOUNTS_FILE_PROPERTY + "=" + mounts),
                    List.of("-listen=127.0.0.1:" + port, "-data-manager-token-file=" + token))) {
                TestHttp http = p.awaitHealthy(port);
                JsonNode mountsJson = new ObjectMapper().readTree(
                        http.get("/mounts", "Authorization", "Bearer admin").body());
                assertEquals(1, mountsJson.size());
                assertFalse(mountsJson.get(0).get("allow_write").asBoolean());
                assertEquals(0, p.terminate());
            }
        } finally {
            new ProcessBuilder("umount", ro.toString()).start().waitFor();
        }
    }

    @Test
    void noVolumesFoundWhenNothingIsMounted() throws Exception {
        Path mounts = tmp.resolve("mounts");
        Files.writeString(mounts, "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n");
        try (ServerProcess p = ServerProcess.start(tmp, List.of("-D" + Main.MOUNTS_FILE_PROPERTY + "=" + mounts),
                List.of("-listen=127.0.0.1:" + ServerProcess.freePort()))) {
            assertNotEquals(0, p.waitForExit());
            assertTrue(p.stderrText().contains("No volumes found."), p.stderrText());
        }
    }

    @Test
    void discoveredVolumesAreReadOnlyWhenMountedRo() throws Exception {
        Path disk = Files.createDirectories(tmp.resolve("disk/keep")).getParent();
        Path mounts = tmp.resolve("mounts");
        Files.writeString(mounts, "/dev/sdz1 " + disk + " ext4 ro,relatime 0 0\n");
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", "admin");
        int port = ServerProcess.freePort();
        try (ServerProcess p = ServerProcess.start(tmp, List.of("-D" + Main.MOUNTS_FILE_PROPERTY + "=" + mounts),
                List.of("-listen=127.0.0.1:" + port, "-data-manager-token-file=" + token))) {
            TestHttp http = p.awaitHealthy(port);
            JsonNode mountsJson = new ObjectMapper().readTree(http.get("/mounts", "Authorization", "Bearer admin").body());
            assertEquals(1, mountsJson.size());
            assertEquals(Mount.uuidFor(disk.resolve("keep").toString()), mountsJson.get(0).get("uuid").asText());
            assertFalse(mountsJson.get(0).get("allow_write").asBoolean());
            assertEquals(0, p.terminate());
        }
    }

    @Test
    void portInUseIsAStartupError() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
             ServerProcess p = run("-listen=127.0.0.1:" + busy.getLocalPort(), "-volume=" + vol)) {
            assertNotEquals(0, p.waitForExit());
            assertTrue(p.stderrText().contains("cannot listen"), p.stderrText());
        }
    }

    @Test
    void readonlyAppliesToTheVolumesAfterIt() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Path c = Files.createDirectories(tmp.resolve("c"));
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", "admin");
        int port = ServerProcess.freePort();
        try (ServerProcess p = run("-listen", "127.0.0.1:" + port, "-data-manager-token-file", token.toString(),
                "-volume=" + a, "-serialize", "-readonly", "-volume=" + b + "," + c)) {
            TestHttp http = p.awaitHealthy(port);
            JsonNode mounts = new ObjectMapper().readTree(http.get("/mounts", "Authorization", "Bearer admin").body());
            assertEquals(3, mounts.size());
            for (JsonNode m : mounts) {
                String uuid = m.get("uuid").asText();
                boolean expectWritable = uuid.equals(Mount.uuidFor(a.toString()));
                assertEquals(expectWritable, m.get("allow_write").asBoolean(), uuid);
            }
            // A PUT lands on the only writable volume.
            byte[] data = "readonly order".getBytes();
            assertEquals(200, http.put("/" + TestHttp.md5(data), data).status());
            String hash = TestHttp.md5(data);
            assertTrue(Files.exists(a.resolve(hash.substring(0, 3)).resolve(hash)));
            String log = p.stderrText();
            assertTrue(log.contains(a + ": writable"), log);
            assertTrue(log.contains(b + ": read-only"), log);
            assertTrue(log.contains("never-delete is true"), log);
            assertEquals(0, p.terminate());
        }
    }

    @Test
    void pidFileIsLockedWhileRunningAndRemovedOnCleanExit() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        Path pid = tmp.resolve("keepstore.pid");
        int port = ServerProcess.freePort();
        try (ServerProcess first = run("-listen=127.0.0.1:" + port, "-volume=" + vol, "-pid=" + pid)) {
            first.awaitHealthy(port);
            assertEquals(Long.toString(first.process.pid()), Files.readString(pid).trim());
            try (ServerProcess second = run("-listen=127.0.0.1:" + ServerProcess.freePort(), "-volume=" + vol,
                    "-pid=" + pid)) {
                assertNotEquals(0, second.waitForExit());
                assertTrue(second.stderrText().contains(pid.toString()), second.stderrText());
                assertEquals(1, lines(second.stderrText()).size(), second.stderrText());
            }
            assertTrue(Files.exists(pid), "the loser must not remove the winner's pid file");
            assertEquals(0, first.terminate(), "SIGTERM is a clean exit");
            assertFalse(Files.exists(pid));
            String log = first.stderrText();
            assertTrue(log.contains("stopped"), log);
        }
    }

    @Test
    void sigtermLetsARequestInProgressFinishAndExitsZero() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        int port = ServerProcess.freePort();
        try (ServerProcess p = run("-listen=127.0.0.1:" + port, "-volume=" + vol)) {
            TestHttp http = p.awaitHealthy(port);
            byte[] data = "in flight during shutdown".getBytes();
            try (java.net.Socket s = http.socket()) {
                TestHttp.write(s.getOutputStream(), "PUT /" + TestHttp.md5(data) + " HTTP/1.1\r\nHost: t\r\n"
                        + "Content-Length: " + data.length + "\r\n\r\n");
                s.getOutputStream().write(data, 0, 5);
                s.getOutputStream().flush();
                // Wait until the server counts the request as in progress.
                for (int i = 0; i < 600; i++) {
                    JsonNode status = new ObjectMapper().readTree(http.get("/status.json").body());
                    if (status.get("RequestsCurrent").asInt() >= 2) {
                        break;
                    }
                    Thread.sleep(50);
                }
                p.process.destroy();
                // The listening socket closes: new connections are refused ...
                boolean refused = false;
                for (int i = 0; i < 600 && !refused; i++) {
                    try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                        Thread.sleep(50);
                    } catch (java.net.ConnectException e) {
                        refused = true;
                    }
                }
                assertTrue(refused, "a stopping server accepts no new connections");
                // ... while the request in progress is waited for.
                assertTrue(p.process.isAlive(), "the server waits for the request in progress");
                s.getOutputStream().write(data, 5, data.length - 5);
                s.getOutputStream().flush();
                TestHttp.Response r = TestHttp.readResponse(s.getInputStream());
                assertEquals(200, r.status());
            }
            assertEquals(0, p.waitForExit());
        }
    }

    @Test
    void sigintIsAlsoACleanExit() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        int port = ServerProcess.freePort();
        try (ServerProcess p = run("-listen=127.0.0.1:" + port, "-volume=" + vol)) {
            p.awaitHealthy(port);
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.process.pid())).start();
            assertEquals(0, kill.waitFor());
            assertEquals(0, p.waitForExit());
        }
    }

    @Test
    void trashFlagsDeleteUntrashAndEmptyTrash() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", "admin");
        int port = ServerProcess.freePort();
        // A one-second signature TTL makes blocks old enough to trash after a short wait.
        try (ServerProcess p = run("-listen=127.0.0.1:" + port, "-volume=" + vol, "-never-delete=false",
                "-blob-signature-ttl=1", "-trash-lifetime=1h", "-trash-check-interval=1s",
                "-data-manager-token-file=" + token)) {
            TestHttp http = p.awaitHealthy(port);
            byte[] data = "trash me".getBytes();
            String locator = TestHttp.md5(data) + "+" + data.length;
            assertEquals(200, http.put("/" + TestHttp.md5(data), data).status());
            Thread.sleep(2100);
            assertEquals(200, http.send("DELETE", "/" + locator, null, "Authorization", "Bearer admin").status());
            assertEquals(404, http.get("/" + locator).status());
            assertEquals(200, http.put("/untrash/" + locator, new byte[0], "Authorization", "Bearer admin").status());
            assertEquals(200, http.get("/" + locator).status());
            assertEquals(0, p.terminate());
        }
        // With no trash lifetime the emptier (every second) removes trash for good.
        port = ServerProcess.freePort();
        try (ServerProcess p = run("-listen=127.0.0.1:" + port, "-volume=" + vol, "-never-delete=false",
                "-blob-signature-ttl=1", "-trash-lifetime=1s", "-trash-check-interval=1s",
                "-data-manager-token-file=" + token)) {
            TestHttp http = p.awaitHealthy(port);
            byte[] data = "trash me for good".getBytes();
            String locator = TestHttp.md5(data) + "+" + data.length;
            assertEquals(200, http.put("/" + TestHttp.md5(data), data).status());
            Thread.sleep(2100);
            assertEquals(200, http.send("DELETE", "/" + locator, null, "Authorization", "Bearer admin").status());
            // The block moves to a trash file, which the emptier (every second) deletes after its
            // one-second lifetime.
            Path blockDir = vol.resolve(TestHttp.md5(data).substring(0, 3));
            for (int i = 0; i < 1200 && leftovers(blockDir, TestHttp.md5(data)) > 0; i++) {
                Thread.sleep(100);
            }
            assertEquals(0, leftovers(blockDir, TestHttp.md5(data)), "trash emptied");
            int untrash = http.put("/untrash/" + locator, new byte[0], "Authorization", "Bearer admin").status();
            assertEquals(404, untrash, "emptied trash cannot be restored");
            assertEquals(404, http.get("/" + locator).status());
            assertEquals(0, p.terminate());
        }
    }

    /** Files in a block directory that belong to {@code hash} (the block or its trash). */
    private static long leftovers(Path blockDir, String hash) throws Exception {
        if (!Files.isDirectory(blockDir)) {
            return 0;
        }
        try (var files = Files.list(blockDir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(hash)).count();
        }
    }

    @Test
    void launcherStartedWithSigintIgnoredStillStopsOnSigint() throws Exception {
        // A non-interactive shell starts its background jobs (./keepstore ... &) with SIGINT
        // ignored, as trap '' INT does here; a Go server handles SIGINT anyway, so ours must too.
        Path launcher = ServerProcess.jar().getParent().getParent().getParent().resolve("keepstore");
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        int port = ServerProcess.freePort();
        Process p = new ProcessBuilder("bash", "-c", "trap '' INT; exec \"$0\" \"$@\"", launcher.toString(),
                "-listen=127.0.0.1:" + port, "-volume=" + vol, "-max-buffers=2")
                .redirectOutput(tmp.resolve("launcher-out.txt").toFile())
                .redirectError(tmp.resolve("launcher-err.txt").toFile()).start();
        try {
            TestHttp http = new TestHttp("127.0.0.1", port);
            boolean healthy = false;
            for (int i = 0; i < 1200 && !healthy && p.isAlive(); i++) {
                try {
                    healthy = http.get("/_health/ping").status() == 200;
                } catch (java.io.IOException e) {
                    Thread.sleep(100);
                }
            }
            assertTrue(healthy, Files.readString(tmp.resolve("launcher-err.txt")));
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "SIGINT did not stop the server");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void launcherPassesFlagsThrough() throws Exception {
        Path root = ServerProcess.jar().getParent().getParent().getParent();
        Path launcher = root.resolve("keepstore");
        Process p = new ProcessBuilder(launcher.toString(), "-h").redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor());
            assertTrue(out.startsWith("Usage of keepstore:"), out);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aBuiltCheckoutRunsForAUserWhoCannotWriteToIt() throws Exception {
        // A service user (systemd's User=, runit's chpst -u) usually reads a checkout it
        // cannot write to: with the jar built, ./keepstore must run without writing anything.
        Path root = ServerProcess.jar().getParent().getParent().getParent();
        Path tree = Files.createDirectories(tmp.resolve("checkout"));
        Files.createDirectories(tree.resolve("scripts"));
        Files.createDirectories(tree.resolve("keep-server/target"));
        Files.copy(root.resolve("keepstore"), tree.resolve("keepstore"));
        Files.copy(root.resolve("scripts/keepstore-launcher"), tree.resolve("scripts/keepstore-launcher"));
        Files.copy(ServerProcess.jar(), tree.resolve("keep-server/target/keepstore.jar"));
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            // Root may write anywhere: run as an unprivileged user instead.
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            command.addAll(List.of("runuser", "-u", "nobody", "--"));
        }
        assertEquals(0, new ProcessBuilder("chmod", "-R", "a+rX,a-w", tree.toString()).start().waitFor());
        command.addAll(List.of(tree.resolve("keepstore").toString(), "-h"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), out);
            assertTrue(out.startsWith("Usage of keepstore:"), out);
            assertFalse(Files.exists(tree.resolve("target")), "nothing was created in the checkout");
        } finally {
            p.destroyForcibly();
            new ProcessBuilder("chmod", "-R", "u+w", tree.toString()).start().waitFor();
        }
    }
}
