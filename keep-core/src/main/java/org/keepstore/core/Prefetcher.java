package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.function.IntConsumer;

import com.google.common.util.concurrent.Uninterruptibles;

/**
 * Reads a stored copy into a buffer on a helper thread, ahead of the caller that hashes it, so
 * that waiting for the disk overlaps with hashing. Its progress also drives the sending (by a
 * {@link ChunkSender}), so a large read becomes a three-stage pipeline paced by the MD5 alone.
 *
 * <p>The caller must call {@link #stop} before the buffer is reused or the stream closed; it
 * returns once the helper no longer touches either.
 */
final class Prefetcher {
    /**
     * The helper reads at most this much per step, so that the hashing can start on the first
     * bytes soon and a stop is noticed soon.
     */
    private static final int STEP = 1 << 20;

    private final ReadableByteChannel in;
    private final ByteBuffer buffer;
    /** Told on the helper thread how far the buffer is filled after each step; may be null. */
    private final IntConsumer onFilled;
    private final int size;
    private final FutureTask<Void> task;
    /** Bytes read so far; guarded by this. */
    private int filled;
    /** The stream ended or failed, or the helper was stopped; guarded by this. */
    private boolean done;
    /** The read error, if any; guarded by this. */
    private IOException error;
    /** Stop reading; guarded by this. */
    private boolean stopped;

    /**
     * @param buffer   filled from index 0 up to {@code size}; its position and limit are not used
     * @param onFilled called on the helper thread with the number of bytes filled after each
     *                 step (bytes {@code [0, n)} will not change), or null; it must not throw
     */
    Prefetcher(ReadableByteChannel in, ByteBuffer buffer, int size, IntConsumer onFilled, Executor executor) {
        this.in = in;
        this.onFilled = onFilled;
        this.buffer = buffer.duplicate();
        this.size = size;
        this.task = new FutureTask<>(this::readAhead, null);
        executor.execute(task);
    }

    /**
     * Waits until bytes {@code [0, end)} are in the buffer.
     *
     * @return false if the stream ended before {@code end}
     * @throws IOException the error that stopped the reading before {@code end}
     */
    synchronized boolean awaitFilled(int end) throws IOException, InterruptedException {
        while (filled < end && !done) {
            wait();
        }
        if (filled >= end) {
            return true;
        }
        if (error != null) {
            throw error;
        }
        return false;
    }

    /**
     * Stops the helper and waits until it no longer reads the stream or writes the buffer, and
     * no longer calls {@code onFilled}. Idempotent.
     */
    void stop() {
        synchronized (this) {
            stopped = true;
        }
        try {
            Uninterruptibles.getUninterruptibly(task);
        } catch (ExecutionException e) {
            // readAhead records its failures itself
        }
    }

    private void readAhead() {
        int position = 0;
        try {
            while (position < size) {
                synchronized (this) {
                    if (stopped) {
                        break;
                    }
                }
                int n = in.read(buffer.limit(Math.min(size, position + STEP)).position(position));
                if (n < 0) {
                    break;
                }
                position += n;
                synchronized (this) {
                    filled = position;
                    notifyAll();
                }
                if (onFilled != null) {
                    onFilled.accept(position);
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                error = e;
            }
        } catch (RuntimeException e) {
            synchronized (this) {
                error = new IOException("reading the stored copy failed", e);
            }
        } finally {
            synchronized (this) {
                done = true;
                notifyAll();
            }
        }
    }
}
