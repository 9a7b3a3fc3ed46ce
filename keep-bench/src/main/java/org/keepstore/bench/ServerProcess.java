package org.keepstore.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A server under test, running as a separate process on 127.0.0.1 so that its memory can be read
 * from {@code /proc} and nothing it does shares a heap with the driver. Closing it always stops
 * the process (SIGTERM, then SIGKILL if it does not exit in time).
 */
final class ServerProcess implements AutoCloseable {
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    /** USER_HZ, which Linux fixes at 100 for /proc figures on every common architecture. */
    private static final int CLOCK_TICKS_PER_SECOND = 100;

    private final Process process;
    private final int port;
    private final Path log;

    private ServerProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts {@code command} (which must make the server listen on {@code port}; a launcher
     * script must exec the JVM so that the process is the server) and waits until it answers
     * HTTP on that port.
     */
    static ServerProcess start(List<String> command, Map<String, String> environment, int port, Path log,
                               Duration startupTimeout) throws IOException, InterruptedException {
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        ServerProcess server = new ServerProcess(process, port, log);
        try {
            server.awaitReady(startupTimeout);
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("server exited with status " + process.exitValue() + " during startup; log:\n"
                        + logTail(40));
            }
            try (HttpConnection connection = HttpConnection.open(port)) {
                HttpConnection.Response response = connection.request("GET", "/_health/ping", null);
                if (response.status() > 0) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new IOException("server did not answer on port " + port + " within " + timeout + "; log:\n"
                + logTail(40), last);
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The process's peak resident set size so far ({@code VmHWM}), in bytes. */
    long peakRssBytes() {
        return statusField("VmHWM:");
    }

    /** CPU time the process has used so far (user + system), in seconds. */
    double cpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
            // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return ticks / (double) CLOCK_TICKS_PER_SECOND;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The process's current resident set size ({@code VmRSS}), in bytes. */
    long rssBytes() {
        return statusField("VmRSS:");
    }

    /**
     * Resets the kernel's peak-RSS mark so that the next phase is measured on its own.
     *
     * @return false where the kernel does not allow it (then peaks cover the whole run so far)
     */
    boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc", Long.toString(pid()), "clear_refs"), "5");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private long statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
            throw new IllegalStateException(name + " missing from /proc/" + pid() + "/status");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The live heap after a full collection, in bytes, read with {@code jcmd} (the JDK tool next to
     * the running {@code java}). Forcing the collection first makes the figure the memory the
     * server actually holds, not garbage that happens not to be collected yet.
     */
    long liveHeapBytes() throws IOException, InterruptedException {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        // e.g. " garbage-first heap   total 262144K, used 10571K [0x..."
        for (String line : info.split("\n")) {
            int used = line.indexOf(" used ");
            if (line.contains(" heap ") && line.contains("total") && used >= 0) {
                String number = line.substring(used + 6).trim().split("[^0-9]")[0];
                return Long.parseLong(number) * 1024;
            }
        }
        throw new IOException("could not read the heap size from jcmd output:\n" + info);
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Path javaHome = Path.of(System.getProperty("java.home"));
        Path jcmd = javaHome.resolve("bin").resolve("jcmd");
        List<String> cmd = new ArrayList<>();
        cmd.add(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd");
        cmd.add(Long.toString(pid()));
        cmd.add(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("jcmd " + command + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** The last lines the server printed, for error messages. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
