package org.keepstore.volumes.directory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted for one test, to make a volume run out of space for real. Needs root;
 * where mounting is impossible the test is skipped with a message saying so. {@link #run} is also
 * used by keep-reliability's mount tests (through this module's test-jar), hence public.
 */
public final class SmallFilesystem implements AutoCloseable {
    final Path dir;

    private SmallFilesystem(Path dir) {
        this.dir = dir;
    }

    static SmallFilesystem mount(Path dir, String options) throws Exception {
        Files.createDirectories(dir);
        int rc = run(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString()));
        Assumptions.assumeTrue(rc == 0, "cannot mount a tmpfs here (needs root); skipping the disk-full test");
        return new SmallFilesystem(dir);
    }

    @Override
    public void close() throws Exception {
        int rc = run(List.of("umount", dir.toString()));
        if (rc != 0) {
            rc = run(List.of("umount", "-l", dir.toString()));
        }
        if (rc != 0) {
            throw new IOException("could not unmount " + dir);
        }
    }

    /** Runs a command (mount, umount) with its output discarded; its exit status, or -1 if it could not run. */
    public static int run(List<String> command) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return -1;
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
