package org.keepstore.volumes;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.keepstore.core.VolumeMetrics;

/** Volume metrics that count operations by name, so tests can see which requests a volume made. */
public final class OperationCounter implements VolumeMetrics {
    private final Map<String, AtomicInteger> operations = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicLong> bytes = new ConcurrentHashMap<>();

    /** Bytes reported for {@code direction} so far. */
    public long bytes(String direction) {
        java.util.concurrent.atomic.AtomicLong n = bytes.get(direction);
        return n == null ? 0 : n.get();
    }

    /** How many times {@code operation} was reported so far. */
    public int count(String operation) {
        AtomicInteger n = operations.get(operation);
        return n == null ? 0 : n.get();
    }

    public void reset() {
        operations.clear();
    }

    @Override
    public void operation(String deviceId, String operation) {
        operations.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void error(String deviceId, String errorType) {
    }

    @Override
    public void ioBytes(String deviceId, String direction, long n) {
        bytes.computeIfAbsent(direction, k -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(n);
    }
}
