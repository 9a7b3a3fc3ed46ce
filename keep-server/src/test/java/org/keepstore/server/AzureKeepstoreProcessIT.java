package org.keepstore.server;

import java.nio.file.Path;
import java.util.List;

/**
 * The protocol contract against a server process whose only volumes are two Azure containers
 * on Azurite, configured with the reference server's legacy flags (plus our
 * {@code -azure-endpoint} for the emulator).
 */
class AzureKeepstoreProcessIT extends AzureServerProcessContract {
    @Override
    List<String> serverArgs(Path dir, int port) throws Exception {
        List<String> args = contractLegacyFlags(dir, port);
        args.addAll(BackendFlags.azureAccount(azurite(), dir));
        // The contract expects two volumes of replication 1.
        args.add("-azure-storage-replication=1");
        for (int i = 0; i < 2; i++) {
            args.add("-azure-storage-container-volume=" + newContainer());
        }
        return args;
    }
}
