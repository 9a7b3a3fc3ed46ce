package org.keepstore.core;

import java.time.Duration;

/**
 * A bounded pool of block buffers (SPEC §7): at most {@code maxBuffers} buffers of
 * {@code bufferSize} bytes exist at once; they are allocated lazily and reused, so no request
 * allocates a 64 MiB array of its own. Callers that cannot get a buffer wait, and may give up.
 */
public final class BufferPool {
    // Implementation: see keep-core engine work.

    /** A pool of {@code maxBuffers} buffers of {@link Locator#MAX_BLOCK_SIZE} bytes. */
    public BufferPool(int maxBuffers) {
        this(maxBuffers, Locator.MAX_BLOCK_SIZE);
    }

    public BufferPool(int maxBuffers, int bufferSize) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Takes a buffer, waiting as long as needed.
     *
     * @throws InterruptedException if the waiting thread is interrupted (e.g. its client left)
     */
    public Lease acquire() throws InterruptedException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Takes a buffer, waiting at most {@code timeout}; null if none became free in time. */
    public Lease tryAcquire(Duration timeout) throws InterruptedException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public int maxBuffers() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public int bufferSize() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Buffers currently lent out. */
    public int inUse() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Bytes of buffers allocated so far (in use or idle). */
    public long bytesAllocated() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** A borrowed buffer; {@link #close()} returns it to the pool (idempotent). */
    public interface Lease extends AutoCloseable {
        /** The backing array, {@link BufferPool#bufferSize()} bytes long. */
        byte[] array();

        @Override
        void close();
    }
}
