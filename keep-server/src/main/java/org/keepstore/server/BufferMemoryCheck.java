package org.keepstore.server;

import java.lang.management.ManagementFactory;
import java.util.Optional;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.keepstore.core.Locator;

/**
 * Startup check that the JVM's heap can hold {@code -max-buffers} block buffers. The launchers
 * size the heap to fit; an {@code -Xmx} given by hand (or running the jar directly) may not,
 * and the server would then fail requests for lack of memory only once it is busy.
 */
final class HeapCheck {
    private static final long MIB = 1024 * 1024;

    private HeapCheck() {
    }

    /** The warning for this JVM, if its heap is too small for {@code maxBuffers} buffers. */
    static Optional<String> warningForThisJvm(int maxBuffers) {
        return warning(maxBuffers, Runtime.getRuntime().maxMemory(), g1RegionSize());
    }

    /**
     * The warning when {@code maxBuffers} buffers cannot fit in {@code maxHeapBytes}.
     * {@code g1RegionBytes} is the G1 collector's region size (0 for other collectors): G1
     * stores each buffer array in whole regions, so a 64 MiB array (plus its header) takes one
     * region more than 64 MiB.
     */
    static Optional<String> warning(int maxBuffers, long maxHeapBytes, long g1RegionBytes) {
        long perBuffer = g1RegionBytes > 0
                ? (Locator.MAX_BLOCK_SIZE / g1RegionBytes + 1) * g1RegionBytes
                : Locator.MAX_BLOCK_SIZE;
        long needed = maxBuffers * perBuffer;
        if (needed <= maxHeapBytes) {
            return Optional.empty();
        }
        return Optional.of(String.format(
                "-max-buffers=%d needs %d MiB of heap for block buffers (%d MiB each), but the JVM may use"
                        + " at most %d MiB: requests will fail for lack of memory under load. Lower"
                        + " -max-buffers, or raise -Xmx (the keepstore launcher derives it from -max-buffers"
                        + " unless JAVA_OPTS sets it; see docs/install.md)",
                maxBuffers, needed / MIB, perBuffer / MIB, maxHeapBytes / MIB));
    }

    private static long g1RegionSize() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return hotspot == null ? 0 : Long.parseLong(hotspot.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException e) {
            return 0; // not HotSpot, or no such option: count the buffers alone
        }
    }
}
