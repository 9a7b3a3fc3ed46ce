package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class BlockLocksTest {
    private static final String HASH = "acbd18db4cc2f85cedef654fccc4a4d8";

    @Test
    void aLockIsReentrantAndForgottenOnceReleased() throws IOException {
        BlockLocks locks = new BlockLocks();
        int depth = locks.holding(HASH, () -> locks.holding(HASH, () -> locks.inUse()));
        assertEquals(1, depth, "one entry for the hash, held twice by one thread");
        assertEquals(0, locks.inUse());
    }

    @Test
    void aFailingStepStillReleasesTheLock() {
        BlockLocks locks = new BlockLocks();
        assertThrows(IOException.class, () -> locks.holding(HASH, () -> {
            throw new IOException("volume failed");
        }));
        assertEquals(0, locks.inUse());
    }
}
