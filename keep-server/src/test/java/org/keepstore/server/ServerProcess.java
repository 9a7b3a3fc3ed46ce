package org.keepstore.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A keepstore started as an operator would: {@code java -jar keepstore.jar FLAGS}, output to files.
 * Its static helpers are also used by keep-reliability's tests (through this module's test-jar).
 */
public final class ServerProcess implements AutoCloseable {
    public static Path jar() {
        String jar = System.getProperty("keepstore.jar");
        if (jar == null) {
            throw new IllegalStateException("run through failsafe: the keepstore.jar system property is not set");
        }
        return Path.of(jar);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    final Process process;
    final Path stdout;
    final Path stderr;

    private ServerProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts the jar; {@code jvmProperties} are {@code -Dname=value} options placed before {@code -jar}. */
    static ServerProcess start(Path workDir, List<String> jvmProperties, List<String> args) throws IOException {
        List<String> command = javaCommand(jvmProperties, args);
        Files.createDirectories(workDir);
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new ServerProcess(p, out, err);
    }

    /** The command line {@code java [jvmOptions] -jar keepstore.jar [args]}, as an operator's shell would run it. */
    public static List<String> javaCommand(List<String> jvmOptions, List<String> args) {
        List<String> command = new ArrayList<>();
        // Start the server with SIGINT and SIGTERM at their default disposition, as from an
        // operator's shell. A build started in the background by a non-interactive shell runs
        // with SIGINT ignored; a child inherits that, and the JVM then never sees SIGINT at all.
        // env(1) resets them and execs java, so the process id stays the server's.
        command.add("env");
        command.add("--default-signal=INT,TERM");
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(args);
        return command;
    }

    /** Waits for the process to exit on its own (commands that do not serve). */
    int waitForExit() throws InterruptedException {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("keepstore did not exit");
        }
        return process.exitValue();
    }

    String stderrText() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }

    String stdoutText() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    /** Polls the health endpoint until it answers; fails if the process exits first. */
    TestHttp awaitHealthy(int port) throws Exception {
        TestHttp http = new TestHttp("127.0.0.1", port);
        for (int i = 0; i < 1200; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("keepstore exited with " + process.exitValue() + ": " + stderrText());
            }
            try {
                if (http.get("/_health/ping").status() == 200) {
                    return http;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            Thread.sleep(100);
        }
        throw new AssertionError("keepstore never became healthy: " + stderrText());
    }

    /** SIGTERM, then the exit status. */
    int terminate() throws InterruptedException {
        process.destroy();
        return waitForExit();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
