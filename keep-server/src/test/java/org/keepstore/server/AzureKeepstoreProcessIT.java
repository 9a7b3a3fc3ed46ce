package org.keepstore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.keepstore.volumes.azure.Azurite;

/**
 * The protocol contract against a server process whose only volumes are two Azure containers
 * on Azurite, configured with the reference server's legacy flags (plus our
 * {@code -azure-endpoint} for the emulator).
 */
class AzureKeepstoreProcessIT extends ServerProcessContract {
    private Azurite azurite;
    private List<String> containers;

    @Override
    List<String> serverArgs(Path dir, int port) throws Exception {
        azurite = Azurite.fromEnvironment();
        containers = List.of(azurite.newContainer(), azurite.newContainer());
        List<String> args = contractLegacyFlags(dir, port);
        args.addAll(BackendFlags.azureAccount(azurite, dir));
        // The contract expects two volumes of replication 1.
        args.add("-azure-storage-replication=1");
        for (String c : containers) {
            args.add("-azure-storage-container-volume=" + c);
        }
        return args;
    }

    @Override
    void releaseBackend() {
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
    int corruptStoredCopies(String hash, byte[] corrupted) {
        return azurite.replaceCopies(containers, hash, corrupted);
    }
}
