package org.keepstore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol contract against a server process whose only volumes are two Azure containers
 * on Azurite, configured with the reference server's legacy flags (plus our
 * {@code -azure-endpoint} for the emulator).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureKeepstoreProcessIT extends KeepProtocolContract {
    @TempDir
    static Path tmp;

    private TestAzurite azurite;
    private ServerProcess server;
    private TestHttp http;
    private final List<String> containers = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        azurite = TestAzurite.fromEnvironment();
        containers.add(azurite.newContainer());
        containers.add(azurite.newContainer());
        Path key = KeepstoreProcessIT.secretFile(tmp, "key", SIGNING_KEY);
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", ADMIN_TOKEN);
        Path accountKey = KeepstoreProcessIT.secretFile(tmp, "azure-key", azurite.key);
        int port = ServerProcess.freePort();
        List<String> args = new ArrayList<>(List.of("-listen=127.0.0.1:" + port, "-enforce-permissions=true",
                "-blob-signing-key-file=" + key, "-data-manager-token-file=" + token, "-never-delete=false",
                "-max-buffers=8"));
        args.addAll(azurite.accountFlags(accountKey));
        // The contract expects two volumes of replication 1.
        args.add("-azure-storage-replication=1");
        for (String c : containers) {
            args.add("-azure-storage-container-volume=" + c);
        }
        server = ServerProcess.start(tmp, List.of(), args);
        http = server.awaitHealthy(port);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (azurite != null) {
            azurite.close();
        }
    }

    /** Azurite stamps Last-Modified, the Azure volume's mtime, in whole seconds. */
    @Override
    Duration mtimeStep() {
        return Duration.ofMillis(1100);
    }

    @Override
    TestHttp http() {
        return http;
    }

    @Override
    int corruptStoredCopies(String hash, byte[] corrupted) {
        return azurite.replaceCopies(containers, hash, corrupted);
    }
}
