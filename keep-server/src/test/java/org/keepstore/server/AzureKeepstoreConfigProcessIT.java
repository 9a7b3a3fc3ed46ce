package org.keepstore.server;

import java.nio.file.Path;
import java.util.List;

import org.keepstore.volumes.azure.Azurite;

/**
 * The protocol contract against a server process configured with {@code -config FILE} whose
 * only volumes are two {@code Driver: Azure} volumes on Azurite, with every Azure
 * {@code DriverParameters} key of the reference config (plus our {@code Endpoint}).
 */
class AzureKeepstoreConfigProcessIT extends AzureServerProcessContract {
    @Override
    List<String> serverArgs(Path dir, int port) throws Exception {
        Azurite azurite = azurite();
        StringBuilder volumes = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            volumes.append("      zzzzz-nyw5e-azurecontract0").append(i).append(":\n")
                    .append("        Driver: Azure\n")
                    .append("        Replication: 1\n")
                    .append("        DriverParameters:\n")
                    .append("          StorageAccountName: ").append(azurite.account).append("\n")
                    .append("          StorageAccountKey: \"").append(azurite.key).append("\"\n")
                    .append("          StorageBaseURL: core.windows.net\n")
                    .append("          Endpoint: ").append(azurite.endpoint).append("\n")
                    .append("          ContainerName: ").append(newContainer()).append("\n")
                    .append("          RequestTimeout: 30s\n")
                    .append("          ListBlobsRetryDelay: 1s\n")
                    .append("          ListBlobsMaxAttempts: 3\n")
                    .append("          WriteRaceInterval: 15s\n")
                    .append("          WriteRacePollTime: 1s\n");
        }
        return ConfigFixtures.args(ConfigFixtures.contractCluster(dir, "azure-cluster.yml", port, volumes.toString()));
    }
}
