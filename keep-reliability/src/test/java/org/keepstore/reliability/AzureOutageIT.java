package org.keepstore.reliability;

import java.nio.file.Path;

/** {@link BackendOutageScenario} with an Azure volume on a private Azurite. */
class AzureOutageIT extends BackendOutageScenario {
    @Override
    Emulator startEmulator(Path home) throws Exception {
        return AzuriteEmulator.start(home);
    }
}
