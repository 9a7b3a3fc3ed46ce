package org.keepstore.core;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * What the cluster tells every volume at creation time.
 *
 * @param clock              the source of "now" for mtimes, trash deadlines and race windows
 * @param trashLifetime      how long trash is kept before {@link Volume#emptyTrash()} deletes it;
 *                           zero means {@link Volume#trash} deletes at once (where the driver allows it)
 * @param blobSignatureTtl   how long a permission signature is valid; volumes whose backends have
 *                           race windows (S3) use it to refuse trashing a block that was recently
 *                           written or touched
 * @param metrics            per-volume counters for {@code /metrics}
 */
public record VolumeContext(Clock clock, Duration trashLifetime, Duration blobSignatureTtl, VolumeMetrics metrics) {
    public VolumeContext {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(trashLifetime, "trashLifetime");
        Objects.requireNonNull(blobSignatureTtl, "blobSignatureTtl");
        Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * Defaults for tests and simple embedding: the system clock, trash kept for two weeks (the
     * cluster config's default {@code BlobTrashLifetime}, 336h, so a trashed block can be
     * restored until then) and a two-week signature TTL.
     */
    public static VolumeContext defaults() {
        return new VolumeContext(Clock.systemUTC(), Duration.ofDays(14), Duration.ofDays(14), VolumeMetrics.NONE);
    }
}
