package org.keepstore.server;

import java.lang.management.ManagementFactory;
import java.util.Optional;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.keepstore.core.BufferPool;
import org.keepstore.core.Locator;

/**
 * Startup check that the JVM may allocate {@code -max-buffers} block buffers. They are direct
 * buffers (see {@link BufferPool}), limited by {@code -XX:MaxDirectMemorySize}, which defaults
 * to the heap size. The launchers set the limit to fit; a JVM started by hand may not, and the
 * server would then fail requests for lack of memory only once it is busy.
 */
final class BufferMemoryCheck {
    private static final long MIB = 1024 * 1024;
    /** What one buffer takes from the limit: a block plus the slack that aligns it. */
    static final long BYTES_PER_BUFFER = Locator.MAX_BLOCK_SIZE + (long) BufferPool.ALIGNMENT;

    private BufferMemoryCheck() {
    }

    /** The warning for this JVM, if its direct memory limit is too small for {@code maxBuffers} buffers. */
    static Optional<String> warningForThisJvm(int maxBuffers) {
        return warning(maxBuffers, directMemoryLimit());
    }

    /** The warning when {@code maxBuffers} buffers do not fit in {@code limitBytes} of direct memory. */
    static Optional<String> warning(int maxBuffers, long limitBytes) {
        long needed = maxBuffers * BYTES_PER_BUFFER;
        if (needed <= limitBytes) {
            return Optional.empty();
        }
        return Optional.of(String.format(
                "-max-buffers=%d needs %d MiB of direct memory for block buffers, but the JVM may use"
                        + " at most %d MiB: requests will fail for lack of memory under load. Lower"
                        + " -max-buffers, or raise -XX:MaxDirectMemorySize (the keepstore launcher derives"
                        + " it from -max-buffers unless JAVA_OPTS sets it; see docs/install.md)",
                maxBuffers, (needed + MIB - 1) / MIB, limitBytes / MIB));
    }

    /** -XX:MaxDirectMemorySize, or the heap size it defaults to when not set. */
    static long directMemoryLimit() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (hotspot != null) {
                long set = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
                if (set > 0) {
                    return set;
                }
            }
        } catch (RuntimeException e) {
            // not HotSpot, or no such option: the JDK's default applies
        }
        return Runtime.getRuntime().maxMemory();
    }
}
