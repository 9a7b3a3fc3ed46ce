package org.keepstore.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol contract against the real server process started from the shaded jar with
 * {@code -config FILE} (an Arvados cluster config) instead of flags.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeepstoreConfigProcessIT extends KeepProtocolContract {
    @TempDir
    static Path tmp;

    private ServerProcess server;
    private TestHttp http;
    private Path[] roots;

    @BeforeAll
    void start() throws Exception {
        roots = new Path[]{Files.createDirectories(tmp.resolve("vol0")), Files.createDirectories(tmp.resolve("vol1"))};
        int port = ServerProcess.freePort();
        Path config = ConfigFixtures.contractConfig(tmp, port, roots);
        server = ServerProcess.start(tmp, List.of(), ConfigFixtures.args(config));
        http = server.awaitHealthy(port);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    TestHttp http() {
        return http;
    }

    @Override
    int corruptStoredCopies(String hash, byte[] corrupted) throws Exception {
        return DirectoryCopies.replace(roots, hash, corrupted);
    }
}
