package org.keepstore.core;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

/**
 * MD5 of a buffer that another thread is still filling, computed on a helper thread that
 * follows the filler a little behind. Receiving a body and hashing it then overlap instead of
 * taking turns, so a large PUT costs about as long as the hashing alone.
 *
 * <p>The filler calls {@link #advance} as bytes arrive and {@link #digest} at the end. Whatever
 * happens, the filler must call {@link #digest} or {@link #cancel} before the buffer is reused:
 * both return only once the helper no longer reads the buffer.
 */
final class TrailingDigest {
    /** The helper hashes at most this much per step, so that a cancel is noticed soon. */
    private static final int STEP = 1 << 20;

    private final ByteBuffer buffer;
    private final MessageDigest md5;
    private final FutureTask<byte[]> task;
    /** Bytes of {@code buffer} filled so far; guarded by this. */
    private int filled;
    /** No more bytes will come; guarded by this. */
    private boolean finished;
    /** Stop hashing; guarded by this. */
    private boolean cancelled;

    /** @param buffer filled from index 0; only its contents are used (its position and limit are not) */
    TrailingDigest(ByteBuffer buffer, MessageDigest md5, Executor executor) {
        this.buffer = buffer.duplicate();
        this.md5 = md5;
        this.task = new FutureTask<>(this::hashBehind);
        executor.execute(task);
    }

    /** Bytes {@code [0, end)} of the buffer are filled and will not change. */
    synchronized void advance(int end) {
        filled = end;
        notifyAll();
    }

    /**
     * Waits for the hash of the first {@code length} bytes (all of them filled).
     *
     * @throws IllegalStateException if hashing failed (it cannot fail for valid input)
     */
    byte[] digest(int length) {
        synchronized (this) {
            filled = length;
            finished = true;
            notifyAll();
        }
        byte[] digest = awaitUninterruptibly();
        if (digest == null) {
            throw new IllegalStateException("digest was cancelled");
        }
        return digest;
    }

    /** Stops the helper and waits until it no longer touches the buffer. */
    void cancel() {
        synchronized (this) {
            cancelled = true;
            notifyAll();
        }
        awaitUninterruptibly();
    }

    private byte[] hashBehind() throws InterruptedException {
        int hashed = 0;
        while (true) {
            int end;
            synchronized (this) {
                while (!cancelled && filled == hashed && !finished) {
                    wait();
                }
                if (cancelled) {
                    return null;
                }
                if (filled == hashed) {
                    break; // finished and everything hashed
                }
                end = Math.min(filled, hashed + STEP);
            }
            md5.update(buffer.limit(end).position(hashed));
            hashed = end;
        }
        return md5.digest();
    }

    /** The helper's result; waits without giving up, because the buffer must not be reused early. */
    private byte[] awaitUninterruptibly() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw new IllegalStateException("hashing failed", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
