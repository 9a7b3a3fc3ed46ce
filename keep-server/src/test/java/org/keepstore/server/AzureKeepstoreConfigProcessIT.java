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
 * The protocol contract against a server process configured with {@code -config FILE} whose
 * only volumes are two {@code Driver: Azure} volumes on Azurite, with every Azure
 * {@code DriverParameters} key of the reference config (plus our {@code Endpoint}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureKeepstoreConfigProcessIT extends KeepProtocolContract {
    @TempDir
    static Path tmp;

    private TestAzurite azurite;
    private ServerProcess server;
    private TestHttp http;
    private final List<String> containers = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        azurite = TestAzurite.fromEnvironment();
        StringBuilder volumes = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            String container = azurite.newContainer();
            containers.add(container);
            volumes.append("      zzzzz-nyw5e-azurecontract0").append(i).append(":\n")
                    .append("        Driver: Azure\n")
                    .append("        Replication: 1\n")
                    .append("        DriverParameters:\n")
                    .append("          StorageAccountName: ").append(azurite.account).append("\n")
                    .append("          StorageAccountKey: \"").append(azurite.key).append("\"\n")
                    .append("          StorageBaseURL: core.windows.net\n")
                    .append("          Endpoint: ").append(azurite.endpoint).append("\n")
                    .append("          ContainerName: ").append(container).append("\n")
                    .append("          RequestTimeout: 30s\n")
                    .append("          ListBlobsRetryDelay: 1s\n")
                    .append("          ListBlobsMaxAttempts: 3\n")
                    .append("          WriteRaceInterval: 15s\n")
                    .append("          WriteRacePollTime: 1s\n");
        }
        int port = ServerProcess.freePort();
        Path config = ConfigFixtures.write(tmp, "azure-cluster.yml", """
                Clusters:
                  zzzzz:
                    SystemRootToken: %s
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://127.0.0.1:%d/": {}
                    API:
                      MaxKeepBlobBuffers: 8
                    Collections:
                      BlobSigning: true
                      BlobSigningKey: %s
                      BlobSigningTTL: 336h
                      BlobTrash: true
                      BlobTrashLifetime: 0
                    Volumes:
                """.formatted(ADMIN_TOKEN, port, SIGNING_KEY) + volumes);
        server = ServerProcess.start(tmp, List.of(), ConfigFixtures.args(config));
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
