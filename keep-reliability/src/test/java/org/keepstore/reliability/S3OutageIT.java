package org.keepstore.reliability;

import java.nio.file.Path;

/** {@link BackendOutageScenario} with an S3 volume on a private S3Proxy. */
class S3OutageIT extends BackendOutageScenario {
    /** Per attempt: the driver makes up to 4, so a request to a frozen S3 can take 4 × this, twice for a write. */
    @Override
    int timeoutSeconds() {
        return 2;
    }

    @Override
    Emulator startEmulator(Path home) throws Exception {
        return S3ProxyEmulator.start(home);
    }
}
