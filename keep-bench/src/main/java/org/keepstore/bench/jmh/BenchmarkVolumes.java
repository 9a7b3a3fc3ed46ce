package org.keepstore.bench.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.google.common.io.MoreFiles;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;

/** Volumes for benchmarks: a directory volume in a fresh temporary directory, removed afterwards. */
final class BenchmarkVolumes {
    private BenchmarkVolumes() {
    }

    /**
     * A directory volume under {@code keepstore.bench.dir} (default: the system temp directory),
     * so it can be pointed at the disk under test.
     */
    static Volume directory(Path root) throws IOException {
        return VolumeDriver.forName("Directory").create(Map.of("Root", root.toString()), VolumeContext.defaults());
    }

    static Path freshDirectory() throws IOException {
        String base = System.getProperty("keepstore.bench.dir");
        return base == null ? Files.createTempDirectory("keep-bench") : Files.createTempDirectory(Path.of(base), "keep-bench");
    }

    static void delete(Path dir) throws IOException {
        if (dir != null && Files.exists(dir)) {
            MoreFiles.deleteRecursively(dir);
        }
    }
}
