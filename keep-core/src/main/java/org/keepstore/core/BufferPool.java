package org.keepstore.core;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded pool of block buffers (SPEC §7): at most {@code maxBuffers} buffers of
 * {@code bufferSize} bytes exist at once; they are allocated lazily and reused, so no request
 * allocates a 64 MiB array of its own. Callers that cannot get a buffer wait, and may give up.
 *
 * <p>Waiters are served first come, first served, so a steady stream of short requests cannot
 * starve one that has been waiting. Thread-safe.
 */
public final class BufferPool {
    private final int maxBuffers;
    private final int bufferSize;
    /** One permit per buffer that may be lent out; fair so waiters are served in order. */
    private final Semaphore permits;
    /** Buffers allocated and returned, ready for reuse (most recently returned first). */
    private final ConcurrentLinkedDeque<byte[]> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger allocated = new AtomicInteger();

    /** A pool of {@code maxBuffers} buffers of {@link Locator#MAX_BLOCK_SIZE} bytes. */
    public BufferPool(int maxBuffers) {
        this(maxBuffers, Locator.MAX_BLOCK_SIZE);
    }

    public BufferPool(int maxBuffers, int bufferSize) {
        if (maxBuffers < 1) {
            throw new IllegalArgumentException("maxBuffers must be at least 1");
        }
        if (bufferSize < 0) {
            throw new IllegalArgumentException("bufferSize must not be negative");
        }
        this.maxBuffers = maxBuffers;
        this.bufferSize = bufferSize;
        this.permits = new Semaphore(maxBuffers, true);
    }

    /**
     * Takes a buffer, waiting as long as needed.
     *
     * @throws InterruptedException if the waiting thread is interrupted (e.g. its client left)
     */
    public Lease acquire() throws InterruptedException {
        permits.acquire();
        return lend();
    }

    /** Takes a buffer, waiting at most {@code timeout}; null if none became free in time. */
    public Lease tryAcquire(Duration timeout) throws InterruptedException {
        if (!permits.tryAcquire(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS)) {
            return null;
        }
        return lend();
    }

    public int maxBuffers() {
        return maxBuffers;
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** Buffers currently lent out. */
    public int inUse() {
        return maxBuffers - permits.availablePermits();
    }

    /** Bytes of buffers allocated so far (in use or idle). */
    public long bytesAllocated() {
        return (long) allocated.get() * bufferSize;
    }

    /** Called with a permit held: reuses an idle buffer or allocates one. */
    private Lease lend() {
        byte[] buffer = idle.pollFirst();
        if (buffer == null) {
            try {
                buffer = new byte[bufferSize];
            } catch (OutOfMemoryError e) {
                permits.release();
                throw e;
            }
            allocated.incrementAndGet();
        }
        return new PooledLease(buffer);
    }

    private final class PooledLease implements Lease {
        private final byte[] buffer;
        private final AtomicBoolean returned = new AtomicBoolean();

        PooledLease(byte[] buffer) {
            this.buffer = buffer;
        }

        @Override
        public byte[] array() {
            return buffer;
        }

        @Override
        public void close() {
            if (returned.compareAndSet(false, true)) {
                // Back on the idle list before the permit is released, so the next taker
                // finds it instead of allocating another.
                idle.addFirst(buffer);
                permits.release();
            }
        }
    }

    /** A borrowed buffer; {@link #close()} returns it to the pool (idempotent). */
    public interface Lease extends AutoCloseable {
        /** The backing array, {@link BufferPool#bufferSize()} bytes long. */
        byte[] array();

        @Override
        void close();
    }
}
