package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.volumes.directory.Flock;

class PidFileTest {
    @TempDir
    Path dir;

    @Test
    void aPidFileHeldWithFlockByAnotherServerIsRefused() throws Exception {
        Path file = dir.resolve("keepstore.pid");
        Files.writeString(file, "12345\n");
        // What the reference keepstore (or `flock FILE`) holds: a flock lock, not a POSIX one.
        try (Flock other = Flock.tryLock(file)) {
            assertNotNull(other, "flock is available on Linux");
            StartupException e = assertThrows(StartupException.class, () -> PidFile.acquire(file));
            assertTrue(e.getMessage().contains("flock"), e.getMessage());
            assertEquals("12345\n", Files.readString(file), "the other holder's file is left alone");
        }
    }

    @Test
    void whileTheServerRunsAFlockOnItsPidFileFailsAndAfterwardsTheFileIsGone() throws Exception {
        Path file = dir.resolve("keepstore.pid");
        try (PidFile held = PidFile.acquire(file)) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(file));
            assertThrows(Flock.HeldElsewhere.class, () -> Flock.tryLock(file));
        }
        assertFalse(Files.exists(file));
    }
}
