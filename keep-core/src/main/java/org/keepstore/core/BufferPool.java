package org.keepstore.core;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded pool of block buffers (SPEC §7): at most {@code maxBuffers} buffers of
 * {@code bufferSize} bytes exist at once; they are allocated lazily and reused, so no request
 * allocates a 64 MiB buffer of its own. Callers that cannot get a buffer wait, and may give up.
 *
 * <p>The buffers are direct (outside the Java heap) and start on a {@link #ALIGNMENT}-byte
 * boundary. Files and sockets then read into them and write from them without the copy through
 * a temporary direct buffer that the JDK makes for every heap array, and a volume may write them
 * with direct I/O as they are. They count against {@code -XX:MaxDirectMemorySize}, not the heap.
 *
 * <p>Waiters are served first come, first served, so a steady stream of short requests cannot
 * starve one that has been waiting. Thread-safe.
 */
public final class BufferPool {
    /** Every buffer starts at a multiple of this address: the page size, enough for O_DIRECT. */
    public static final int ALIGNMENT = 4096;

    private final int maxBuffers;
    private final int bufferSize;
    /** One permit per buffer that may be lent out; fair so waiters are served in order. */
    private final Semaphore permits;
    /** Buffers allocated and returned, ready for reuse (most recently returned first). */
    private final ConcurrentLinkedDeque<ByteBuffer> idle = new ConcurrentLinkedDeque<>();
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
        ByteBuffer buffer = idle.pollFirst();
        if (buffer == null) {
            try {
                // alignedSlice keeps whole aligned units only: allocate enough for one more.
                int units = (bufferSize + ALIGNMENT - 1) / ALIGNMENT + 1;
                buffer = ByteBuffer.allocateDirect(units * ALIGNMENT).alignedSlice(ALIGNMENT)
                        .limit(bufferSize).slice();
            } catch (OutOfMemoryError e) {
                permits.release();
                throw e;
            }
            allocated.incrementAndGet();
        }
        return new PooledLease(buffer);
    }

    private final class PooledLease implements Lease {
        private final ByteBuffer buffer;
        private final AtomicBoolean returned = new AtomicBoolean();

        PooledLease(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public ByteBuffer buffer() {
            if (returned.get()) {
                throw new IllegalStateException("buffer already returned to the pool");
            }
            return buffer.duplicate();
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
        /**
         * A view of the buffer with position 0 and limit {@link BufferPool#bufferSize()}: each
         * call returns a new view (own position and limit) of the same memory. Its contents are
         * whatever the previous borrower left there.
         */
        ByteBuffer buffer();

        @Override
        void close();
    }
}
