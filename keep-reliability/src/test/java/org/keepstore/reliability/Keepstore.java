package org.keepstore.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.keepstore.server.ServerProcess;

/**
 * One keepstore server process started from the shaded jar, the way an operator runs it, with its
 * output in files. Always {@link #close() closed} by the test that started it, which kills it if
 * it is still running.
 */
final class Keepstore implements AutoCloseable {
    final Process process;
    final int port;
    final Path log;
    final Http http;

    private Keepstore(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.http = new Http("127.0.0.1", port);
    }

    /**
     * Starts {@code java [jvmOptions] -jar keepstore.jar -listen=127.0.0.1:PORT [flags]} on a free
     * port and waits until it answers its health check. stdout and stderr both go to
     * {@code workDir/NAME.log}.
     */
    static Keepstore start(Path workDir, String name, List<String> jvmOptions, List<String> flags) throws Exception {
        int port = ServerProcess.freePort();
        List<String> all = new ArrayList<>();
        all.add("-listen=127.0.0.1:" + port);
        all.addAll(flags);
        return startOnPort(workDir, name, port, jvmOptions, all);
    }

    /** Like {@link #start} for a server whose flags (or config file) already name {@code port}. */
    static Keepstore startOnPort(Path workDir, String name, int port, List<String> jvmOptions, List<String> flags)
            throws Exception {
        Process p = null;
        try {
            Keepstore k = launch(workDir, name, port, jvmOptions, flags);
            p = k.process;
            k.awaitHealthy();
            return k;
        } catch (Exception | AssertionError e) {
            if (p != null) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
            throw e;
        }
    }

    /** Starts the process without waiting for it to serve. */
    static Keepstore launch(Path workDir, String name, int port, List<String> jvmOptions, List<String> flags)
            throws IOException {
        List<String> command = ServerProcess.javaCommand(jvmOptions, flags);
        Files.createDirectories(workDir);
        Path log = workDir.resolve(name + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new Keepstore(p, port, log);
    }

    void awaitHealthy() throws Exception {
        for (int i = 0; i < 1200; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("keepstore exited with " + process.exitValue() + ":\n" + logText());
            }
            try {
                if (http.get("/_health/ping").status() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("keepstore never became healthy:\n" + logText());
    }

    long pid() {
        return process.pid();
    }

    String logText() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** SIGKILL: no shutdown hook, no flush, no graceful anything. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError("keepstore survived SIGKILL");
        }
    }

    /** SIGTERM, then the exit status. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("keepstore did not stop after SIGTERM");
        }
        return process.exitValue();
    }

    /** Open file descriptors of the server process. */
    int openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
            return (int) s.count();
        }
    }

    /** What the open descriptors point at, counted (socket:[…] entries folded into "socket"). */
    java.util.Map<String, Integer> fdTargets() throws IOException {
        java.util.Map<String, Integer> targets = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
            for (Path fd : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString().replaceAll("\\[\\d+\\]", "");
                } catch (IOException e) {
                    continue;
                }
                targets.merge(target, 1, Integer::sum);
            }
        }
        return targets;
    }

    /**
     * {@link #assertNoFdLeak} on this process's descriptors now, retried for up to 15 s: a
     * connection just closed under a blocked thread briefly holds a placeholder descriptor.
     */
    void awaitNoFdLeak(java.util.Map<String, Integer> before, int workerThreads, int socketSlack)
            throws IOException, InterruptedException {
        for (int i = 0; ; i++) {
            try {
                assertNoFdLeak(before, fdTargets(), workerThreads, socketSlack);
                return;
            } catch (AssertionError e) {
                if (i >= 30) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    /**
     * Asserts that descriptors taken after some load are those of before, give or take: sockets
     * may differ by {@code socketSlack} (keep-alive connections of the test's own client), and each
     * worker thread that ever waited on a client keeps one selector (an eventpoll and an eventfd
     * descriptor) for its lifetime, which is bounded by the pool, not a leak.
     */
    static void assertNoFdLeak(java.util.Map<String, Integer> before, java.util.Map<String, Integer> after,
                               int workerThreads, int socketSlack) {
        String both = before + " → " + after;
        if (after.getOrDefault("anon_inode:[eventpoll]", 0) > workerThreads + 4) {
            throw new AssertionError("more selectors than worker threads: " + both);
        }
        if (after.getOrDefault("socket:", 0) > before.getOrDefault("socket:", 0) + socketSlack) {
            throw new AssertionError("sockets leaked: " + both);
        }
        // The first connection closed under a blocked worker thread leaves one more /dev/null open
        // for good (observed once per process however many are closed): allowed once, not more.
        if (after.getOrDefault("/dev/null", 0) > before.getOrDefault("/dev/null", 0) + 1) {
            throw new AssertionError("/dev/null descriptors leaked: " + both);
        }
        java.util.Map<String, Integer> filesBefore = new java.util.TreeMap<>(before);
        java.util.Map<String, Integer> filesAfter = new java.util.TreeMap<>(after);
        for (String kind : List.of("socket:", "anon_inode:[eventpoll]", "anon_inode:[eventfd]", "/dev/null")) {
            filesBefore.remove(kind);
            filesAfter.remove(kind);
        }
        if (!filesBefore.equals(filesAfter)) {
            throw new AssertionError("files held open changed: " + both);
        }
    }

    /** Threads of the server process. */
    int threads() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid() + "/task"))) {
            return (int) s.count();
        }
    }

    /** A field of /proc/PID/status in KiB, e.g. VmRSS (now) or VmHWM (peak resident set). */
    long statusKiB(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IOException(field + " not in /proc/" + pid() + "/status");
    }

    /** Kills the process if it still runs, and keeps its log under {@code keepstore.serverLogs} for later reading. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(60, TimeUnit.SECONDS);
        }
        String keep = System.getProperty("keepstore.serverLogs");
        if (keep != null && !keep.isEmpty()) {
            try {
                Path dir = Files.createDirectories(Path.of(keep));
                Files.copy(log, dir.resolve(log.getFileName().toString().replace(".log", "-" + pid() + ".log")),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                System.out.println("could not keep the server log " + log + ": " + e);
            }
        }
    }
}
