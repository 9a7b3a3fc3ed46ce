package org.keepstore.core.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests can move by hand, so trash deadlines and signature TTLs are tested without
 * sleeping. Thread-safe. Published in keep-core's test-jar for other modules' tests.
 */
public final class MutableClock extends Clock {
    private volatile Instant now;
    private final ZoneId zone;

    /** A clock at {@code start}, in UTC. */
    public MutableClock(Instant start) {
        this(start, ZoneOffset.UTC);
    }

    /** A clock at a fixed, arbitrary moment with a non-zero nanosecond part. */
    public MutableClock() {
        this(Instant.parse("2026-01-02T03:04:05.123456789Z"));
    }

    private MutableClock(Instant start, ZoneId zone) {
        this.now = start;
        this.zone = zone;
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        // Shares nothing with this clock afterwards; tests use UTC anyway.
        return new MutableClock(now, zone);
    }

    @Override
    public Instant instant() {
        return now;
    }

    /** Moves the clock forward (or backward, for a negative duration). */
    public synchronized void advance(Duration d) {
        now = now.plus(d);
    }

    public void set(Instant instant) {
        now = instant;
    }

    /** Now, in nanoseconds since the Unix epoch. */
    public long nanos() {
        Instant n = now;
        return n.getEpochSecond() * 1_000_000_000L + n.getNano();
    }
}
