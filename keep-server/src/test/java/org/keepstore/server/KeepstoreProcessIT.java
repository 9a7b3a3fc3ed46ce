package org.keepstore.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol contract against the real server process, started from the shaded jar with the
 * reference server's flags, the way an operator runs it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeepstoreProcessIT extends KeepProtocolContract {
    // Static: with the per-class lifecycle, an instance @TempDir field is not yet set in @BeforeAll.
    @TempDir
    static Path tmp;

    private ServerProcess server;
    private TestHttp http;
    private Path[] roots;

    static Path secretFile(Path dir, String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @BeforeAll
    void start() throws Exception {
        roots = new Path[]{Files.createDirectories(tmp.resolve("vol0")), Files.createDirectories(tmp.resolve("vol1"))};
        Path key = secretFile(tmp, "key", SIGNING_KEY);
        Path token = secretFile(tmp, "token", ADMIN_TOKEN);
        int port = ServerProcess.freePort();
        server = ServerProcess.start(tmp, List.of(), List.of("-listen=127.0.0.1:" + port,
                "-volume=" + roots[0], "-volume", roots[1].toString(), "-enforce-permissions=true",
                "-blob-signing-key-file=" + key, "-data-manager-token-file=" + token, "-never-delete=false",
                "-max-buffers=8", "-serialize=true"));
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
        int n = 0;
        for (Path root : roots) {
            Path file = root.resolve(hash.substring(0, 3)).resolve(hash);
            if (Files.exists(file)) {
                Files.write(file, corrupted);
                n++;
            }
        }
        return n;
    }
}
