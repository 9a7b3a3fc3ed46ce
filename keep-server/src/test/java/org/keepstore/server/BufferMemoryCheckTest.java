package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

class BufferMemoryCheckTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void noWarningWhenTheLaunchersLimitHoldsEveryBuffer() {
        // The launcher's -XX:MaxDirectMemorySize for -max-buffers=100: 100 x 65 + 128 MiB.
        assertEquals(Optional.empty(), BufferMemoryCheck.warning(100, 6628 * MIB));
        assertEquals(Optional.empty(), BufferMemoryCheck.warning(1, 65 * MIB));
    }

    @Test
    void warnsWhenTheBuffersExceedTheLimit() {
        Optional<String> warning = BufferMemoryCheck.warning(100, 4096 * MIB);
        assertTrue(warning.isPresent());
        assertTrue(warning.get().startsWith("-max-buffers=100 needs 6401 MiB of direct memory"), warning.get());
        assertTrue(warning.get().contains("at most 4096 MiB"), warning.get());
        // Exactly 64 MiB per buffer is not enough: each also needs room for its alignment.
        assertTrue(BufferMemoryCheck.warning(4, 256 * MIB).isPresent());
    }

    @Test
    void thisJvmCannotHoldAMillionBuffers() {
        assertTrue(BufferMemoryCheck.warningForThisJvm(1_000_000).isPresent());
    }
}
