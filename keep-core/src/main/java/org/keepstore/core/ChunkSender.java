package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

import com.google.common.util.concurrent.Uninterruptibles;

/**
 * Hands chunks to a {@link BlockSink} on a helper thread, so that whoever produces them (the
 * reading helper of a GET) goes on while earlier ones are written to the client, and
 * hashing, not the sum of reading, hashing and sending, sets the pace.
 *
 * <p>Chunks must be distinct, unchanging regions of a buffer until {@link #finish} or
 * {@link #finishQuietly} returns; both return only once the helper no longer touches them. A failure
 * of the sink is reported by the next {@link #send} or by {@link #finish}.
 */
final class ChunkSender {
    private final BlockSink sink;
    private final Executor executor;
    /** Chunks waiting for the helper; guarded by this. */
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    /** No more chunks will come; guarded by this. */
    private boolean closed;
    /** The sink's failure, if it failed; guarded by this. */
    private Throwable failure;
    /** The helper, started with the first chunk; guarded by this. */
    private FutureTask<Void> task;

    ChunkSender(BlockSink sink, Executor executor) {
        this.sink = sink;
        this.executor = executor;
    }

    /**
     * Queues a chunk for the sink.
     *
     * @throws IOException the sink's failure on an earlier chunk (a RuntimeException it threw
     *                     is rethrown as is)
     */
    void send(ByteBuffer chunk) throws IOException {
        synchronized (this) {
            rethrowFailure();
            queue.addLast(chunk);
            notifyAll();
            if (task == null) {
                task = new FutureTask<>(this::sendAll, null);
                executor.execute(task);
            }
        }
    }

    /** Waits until every queued chunk was written; throws the sink's failure if it failed. */
    void finish() throws IOException {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        awaitHelper();
        synchronized (this) {
            rethrowFailure();
        }
    }

    /**
     * Like {@link #finish} but for when the caller is failing anyway: waits until the queued
     * chunks were written (so the sink sees exactly what was handed over, as without the
     * pipeline) and ignores a failure of the sink.
     */
    void finishQuietly() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        awaitHelper();
    }

    private void sendAll() {
        while (true) {
            ByteBuffer chunk;
            synchronized (this) {
                while (queue.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        failure = new IOException("interrupted while sending", e);
                        return;
                    }
                }
                if (queue.isEmpty()) {
                    return;
                }
                chunk = queue.removeFirst();
            }
            try {
                sink.write(chunk);
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    failure = e;
                    queue.clear();
                }
                return;
            }
        }
    }

    private void rethrowFailure() throws IOException {
        if (failure instanceof IOException io) {
            throw io;
        }
        if (failure instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (failure != null) {
            throw new IOException("sending failed", failure);
        }
    }

    private void awaitHelper() {
        FutureTask<Void> task;
        synchronized (this) {
            task = this.task;
        }
        if (task == null) {
            return;
        }
        try {
            Uninterruptibles.getUninterruptibly(task);
        } catch (ExecutionException e) {
            synchronized (this) {
                if (failure == null) {
                    failure = e.getCause();
                }
            }
        }
    }
}
