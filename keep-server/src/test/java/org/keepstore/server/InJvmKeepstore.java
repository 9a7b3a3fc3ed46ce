package org.keepstore.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code keepstore} command ({@link Main#run}) running in this JVM on a thread, with the
 * same arguments an operator would give, stopped as SIGTERM would stop it.
 */
final class InJvmKeepstore implements AutoCloseable {
    private final Main main;
    private final Thread thread;
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private volatile Integer exitStatus;

    private InJvmKeepstore(List<String> args) {
        main = new Main(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        thread = new Thread(() -> exitStatus = main.run(args), "keepstore-main");
        thread.setDaemon(true);
    }

    static InJvmKeepstore start(List<String> args) {
        InJvmKeepstore k = new InJvmKeepstore(args);
        k.thread.start();
        return k;
    }

    /** Runs a command that is expected to fail at startup; returns its exit status. */
    static Result runToExit(List<String> args) throws InterruptedException {
        InJvmKeepstore k = start(args);
        k.thread.join(TimeUnit.SECONDS.toMillis(60));
        if (k.thread.isAlive()) {
            k.main.stop();
            k.thread.join();
            throw new AssertionError("keepstore started although it should have refused: " + args);
        }
        return new Result(k.exitStatus, k.stderrText());
    }

    record Result(int status, String stderr) {
    }

    String stderrText() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    /** Polls health (with {@code managementToken} if not null) until it answers 200. */
    TestHttp awaitHealthy(int port, String managementToken) throws Exception {
        TestHttp http = new TestHttp("127.0.0.1", port);
        for (int i = 0; i < 600; i++) {
            if (!thread.isAlive()) {
                throw new AssertionError("keepstore exited with " + exitStatus + ": " + stderrText());
            }
            try {
                TestHttp.Response r = managementToken == null ? http.get("/_health/ping")
                        : http.get("/_health/ping", "Authorization", "Bearer " + managementToken);
                if (r.status() == 200) {
                    return http;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            Thread.sleep(50);
        }
        throw new AssertionError("keepstore never became healthy: " + stderrText());
    }

    /** Stops as SIGTERM would and returns the exit status. */
    int stop() throws InterruptedException {
        main.stop();
        thread.join(TimeUnit.SECONDS.toMillis(60));
        if (thread.isAlive()) {
            throw new AssertionError("keepstore did not stop");
        }
        return exitStatus;
    }

    @Override
    public void close() throws InterruptedException {
        if (thread.isAlive()) {
            stop();
        }
    }
}
