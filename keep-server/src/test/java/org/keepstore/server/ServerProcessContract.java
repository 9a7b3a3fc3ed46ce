package org.keepstore.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol contract against a real server process started from the shaded jar. Subclasses
 * prepare the volumes and say how the server is configured ({@link #serverArgs}); this class
 * starts it on a free loopback port, waits until it is healthy, and stops it after the tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerProcessContract extends KeepProtocolContract {
    private ServerProcess server;
    private TestHttp http;

    /** Prepares the volumes under {@code dir}; returns the arguments of a server on 127.0.0.1:{@code port}. */
    abstract List<String> serverArgs(Path dir, int port) throws Exception;

    /** Releases what {@link #serverArgs} set up outside {@code dir}; runs after the server has stopped. */
    void releaseBackend() {
    }

    @BeforeAll
    void startServer(@TempDir Path dir) throws Exception {
        int port = ServerProcess.freePort();
        server = ServerProcess.start(dir, List.of(), serverArgs(dir, port));
        http = server.awaitHealthy(port);
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
        releaseBackend();
    }

    @Override
    TestHttp http() {
        return http;
    }

    /**
     * The reference server's legacy flags for everything but the volumes, as the contract expects
     * them: signatures enforced with {@link #SIGNING_KEY}, {@link #ADMIN_TOKEN} as the data
     * manager token, deletes allowed, eight buffers; then {@code more}. The secrets are files in
     * {@code dir}.
     */
    static List<String> contractLegacyFlags(Path dir, int port, String... more) throws Exception {
        Path key = KeepstoreProcessIT.secretFile(dir, "key", SIGNING_KEY);
        Path token = KeepstoreProcessIT.secretFile(dir, "token", ADMIN_TOKEN);
        List<String> args = new ArrayList<>(List.of("-listen=127.0.0.1:" + port, "-enforce-permissions=true",
                "-blob-signing-key-file=" + key, "-data-manager-token-file=" + token, "-never-delete=false",
                "-max-buffers=8"));
        args.addAll(List.of(more));
        return args;
    }
}
