package org.keepstore.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.keepstore.volumes.azure.Azurite;

/**
 * The protocol contract against a server process whose only volumes are containers on Azurite;
 * subclasses configure the server and create the containers with {@link #newContainer()}.
 */
abstract class AzureServerProcessContract extends ServerProcessContract {
    private Azurite azurite;
    private final List<String> containers = new ArrayList<>();

    /** The emulator (connecting on first use); skips the tests when it is not configured. */
    Azurite azurite() {
        if (azurite == null) {
            azurite = Azurite.fromEnvironment();
        }
        return azurite;
    }

    /** A fresh container for one of the server's volumes. */
    String newContainer() {
        String container = azurite().newContainer();
        containers.add(container);
        return container;
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
