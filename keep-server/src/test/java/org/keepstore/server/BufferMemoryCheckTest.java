package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

class HeapCheckTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void noWarningWhenTheLaunchersHeapHoldsEveryBuffer() {
        // The launcher's -Xmx for -max-buffers=100 with 4 MiB G1 regions: 100 x 70 + 128 MiB.
        assertEquals(Optional.empty(), HeapCheck.warning(100, 7128 * MIB, 4 * MIB));
        assertEquals(Optional.empty(), HeapCheck.warning(128, 128 * 64 * MIB, 0));
    }

    @Test
    void warnsWhenTheBuffersAloneExceedTheHeap() {
        Optional<String> warning = HeapCheck.warning(100, 4096 * MIB, 0);
        assertTrue(warning.isPresent());
        assertTrue(warning.get().startsWith("-max-buffers=100 needs 6400 MiB of heap"), warning.get());
        assertTrue(warning.get().contains("at most 4096 MiB"), warning.get());
    }

    @Test
    void countsTheWholeRegionsG1StoresEachBufferIn() {
        // 128 buffers in 8 MiB regions take 72 MiB each: 9216 MiB, more than 128 x 70 + 128 MiB.
        Optional<String> warning = HeapCheck.warning(128, 9088 * MIB, 8 * MIB);
        assertTrue(warning.isPresent());
        assertTrue(warning.get().contains("needs 9216 MiB of heap for block buffers (72 MiB each)"), warning.get());
    }

    @Test
    void thisJvmsHeapCannotHoldAMillionBuffers() {
        assertTrue(HeapCheck.warningForThisJvm(1_000_000).isPresent());
    }
}
