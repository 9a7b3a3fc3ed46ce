package org.keepstore.server;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol contract against the {@code keepstore} command running in this JVM with
 * {@code -config} instead of flags: the same server, configured the way an Arvados operator does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConfigModeInProcessTest extends KeepProtocolContract {
    @TempDir
    static Path tmp;

    private InJvmKeepstore keepstore;
    private TestHttp http;
    private Path[] roots;

    @BeforeAll
    void start() throws Exception {
        roots = DirectoryCopies.createRoots(tmp, 2);
        int port = ServerProcess.freePort();
        Path config = ConfigFixtures.contractConfig(tmp, port, roots);
        keepstore = InJvmKeepstore.start(ConfigFixtures.args(config));
        http = keepstore.awaitHealthy(port, null);
    }

    @AfterAll
    void stop() throws Exception {
        if (keepstore != null) {
            keepstore.close();
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
