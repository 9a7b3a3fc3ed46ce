package org.keepstore.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The protocol contract against the real server process, started from the shaded jar with the
 * reference server's flags, the way an operator runs it.
 */
class KeepstoreProcessIT extends ServerProcessContract {
    private Path[] roots;

    static Path secretFile(Path dir, String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Override
    List<String> serverArgs(Path dir, int port) throws Exception {
        roots = DirectoryCopies.createRoots(dir, 2);
        return contractLegacyFlags(dir, port, "-volume=" + roots[0], "-volume", roots[1].toString(),
                "-serialize=true");
    }

    @Override
    int corruptStoredCopies(String hash, byte[] corrupted) throws Exception {
        return DirectoryCopies.replace(roots, hash, corrupted);
    }
}
