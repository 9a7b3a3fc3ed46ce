package org.keepstore.reliability;

import java.nio.file.Path;

/** {@link BackendOutageScenario} with an S3 volume on a private S3Proxy. */
class S3OutageIT extends BackendOutageScenario {
    @Override
    Emulator startEmulator(Path home) throws Exception {
        return S3ProxyEmulator.start(home);
    }
}
