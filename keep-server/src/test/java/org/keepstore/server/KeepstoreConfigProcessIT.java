package org.keepstore.server;

import java.nio.file.Path;
import java.util.List;

/**
 * The protocol contract against the real server process started from the shaded jar with
 * {@code -config FILE} (an Arvados cluster config) instead of flags.
 */
class KeepstoreConfigProcessIT extends ServerProcessContract {
    private Path[] roots;

    @Override
    List<String> serverArgs(Path dir, int port) throws Exception {
        roots = DirectoryCopies.createRoots(dir, 2);
        return ConfigFixtures.args(ConfigFixtures.contractConfig(dir, port, roots));
    }

    @Override
    int corruptStoredCopies(String hash, byte[] corrupted) throws Exception {
        return DirectoryCopies.replace(roots, hash, corrupted);
    }
}
