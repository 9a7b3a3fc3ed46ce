package org.keepstore.core;

import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

import com.google.common.util.concurrent.Uninterruptibles;

/**
 * Works through a buffer that another thread is still filling, on a helper thread that follows
 * the filler a little behind: receiving a body and processing it (hashing it, writing it to
 * disk) then overlap instead of taking turns.
 *
 * <p>A subclass calls {@link #start} at the end of its constructor. The filler calls
 * {@link #advance} as bytes arrive and {@link #finish} at the end. Whatever
 * happens, the filler must call {@link #finish} or {@link #cancel} before the buffer is reused:
 * both return only once the helper no longer reads the buffer.
 *
 * @param <R> what the processing yields
 */
abstract class BufferFollower<R> {
    private final ByteBuffer buffer;
    private final int step;
    private final boolean wholeStepsUntilFinished;
    private final FutureTask<R> task;
    /** Bytes of the buffer filled so far; guarded by this. */
    private int filled;
    /** No more bytes will come; guarded by this. */
    private boolean finished;
    /** Stop processing; guarded by this. */
    private boolean cancelled;

    /**
     * @param buffer                  filled from index 0; its position and limit are not used
     * @param step                    the most bytes handed to {@link #consume} at once
     * @param wholeStepsUntilFinished hand over only whole steps until {@link #finish} (for a
     *                                consumer that needs aligned pieces); the last may be shorter
     */
    BufferFollower(ByteBuffer buffer, int step, boolean wholeStepsUntilFinished) {
        this.buffer = buffer.duplicate();
        this.step = step;
        this.wholeStepsUntilFinished = wholeStepsUntilFinished;
        this.task = new FutureTask<>(this::follow);
    }

    /** Starts the helper on {@code executor}; called once, when the subclass is fully built. */
    final void start(Executor executor) {
        executor.execute(task);
    }

    /** Processes the bytes {@code range} holds (position to limit), the next ones in order. */
    protected abstract void consume(ByteBuffer range) throws Exception;

    /** The outcome, once every byte was consumed. */
    protected abstract R result() throws Exception;

    /** Bytes {@code [0, end)} of the buffer are filled and will not change. */
    final synchronized void advance(int end) {
        filled = end;
        notifyAll();
    }

    /**
     * Waits until the first {@code length} bytes (all filled) were consumed.
     *
     * @return the result, or null if the follower was cancelled
     * @throws ExecutionException what {@link #consume} or {@link #result} threw
     */
    final R finish(int length) throws ExecutionException {
        synchronized (this) {
            filled = length;
            finished = true;
            notifyAll();
        }
        return await();
    }

    /** Stops the helper and waits until it no longer touches the buffer. */
    final void cancel() {
        synchronized (this) {
            cancelled = true;
            notifyAll();
        }
        try {
            await();
        } catch (ExecutionException e) {
            // cancelled anyway
        }
    }

    private R follow() throws Exception {
        int done = 0;
        while (true) {
            int end;
            synchronized (this) {
                while (!cancelled && !finished && (filled - done < (wholeStepsUntilFinished ? step : 1))) {
                    wait();
                }
                if (cancelled) {
                    return null;
                }
                if (filled == done) {
                    break; // finished and everything consumed
                }
                end = Math.min(filled, done + step);
            }
            consume(buffer.limit(end).position(done));
            done = end;
        }
        return result();
    }

    /** The helper's outcome; waits without giving up, because the buffer must not be reused early. */
    private R await() throws ExecutionException {
        return Uninterruptibles.getUninterruptibly(task);
    }
}
