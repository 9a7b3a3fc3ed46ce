package org.keepstore.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Blocks as files of Directory volumes ({@code ROOT/HHH/HASH}), for tests that look behind the server. */
final class DirectoryCopies {
    private DirectoryCopies() {
    }

    /** Creates {@code count} empty volume directories {@code vol0, vol1, ...} under {@code dir}. */
    static Path[] createRoots(Path dir, int count) throws IOException {
        Path[] roots = new Path[count];
        for (int i = 0; i < count; i++) {
            roots[i] = Files.createDirectories(dir.resolve("vol" + i));
        }
        return roots;
    }

    static Path file(Path root, String hash) {
        return root.resolve(hash.substring(0, 3)).resolve(hash);
    }

    static boolean holds(Path root, String hash) {
        return Files.isRegularFile(file(root, hash));
    }

    /** Overwrites every existing copy; returns how many there were. */
    static int replace(Path[] roots, String hash, byte[] content) throws IOException {
        int n = 0;
        for (Path root : roots) {
            if (holds(root, hash)) {
                Files.write(file(root, hash), content);
                n++;
            }
        }
        return n;
    }
}
