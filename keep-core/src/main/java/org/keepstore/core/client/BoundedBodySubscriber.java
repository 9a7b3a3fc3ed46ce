package org.keepstore.core.client;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a response body into a buffer without ever holding more than a fixed limit, so
 * a misbehaving server cannot make the client buffer more than one block.
 *
 * <p>Two modes: {@code failBeyondLimit} (block bodies: a longer body is an error and the
 * exchange is abandoned at once) or truncate (error bodies: keep the first bytes for the
 * message, drop the rest).
 */
final class BoundedBodySubscriber implements HttpResponse.BodySubscriber<BoundedBodySubscriber.Body> {

    /** The collected bytes: {@code buffer[0..length)} (the buffer's position and limit are not used). */
    record Body(ByteBuffer buffer, int length) {
        /** The bytes as a new buffer with position 0 and limit {@code length}. */
        ByteBuffer data() {
            return buffer.duplicate().limit(length).position(0);
        }
    }

    /** The body was longer than the caller allowed. */
    static final class BodyTooLongException extends IOException {
        BodyTooLongException(long limit) {
            super("response body longer than " + limit + " bytes");
        }
    }

    private final CompletableFuture<Body> result = new CompletableFuture<>();
    private final int limit;
    private final boolean failBeyondLimit;
    private final boolean mayGrow;
    private ByteBuffer target;
    private int length;
    private Flow.Subscription subscription;

    /**
     * @param target          where to put the bytes, from index 0 (its position and limit are not
     *                        used); when {@code mayGrow} it is replaced by a larger heap buffer
     *                        as needed (never beyond {@code limit})
     * @param limit           the most bytes accepted
     * @param failBeyondLimit true: more bytes than {@code limit} fail the body; false: they are dropped
     */
    BoundedBodySubscriber(ByteBuffer target, boolean mayGrow, int limit, boolean failBeyondLimit) {
        this.target = target.duplicate().clear();
        this.mayGrow = mayGrow;
        this.limit = limit;
        this.failBeyondLimit = failBeyondLimit;
    }

    @Override
    public synchronized void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(Long.MAX_VALUE);
    }

    /**
     * Stops collecting: once this returns, the target array is never written again, even if
     * more of the body arrives (the caller may reuse its buffer).
     */
    synchronized void abandon() {
        result.completeExceptionally(new IOException("response abandoned"));
        if (subscription != null) {
            subscription.cancel();
        }
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> buffers) {
        if (result.isDone()) {
            return;
        }
        for (ByteBuffer buffer : buffers) {
            int n = buffer.remaining();
            if ((long) length + n > limit) {
                if (failBeyondLimit) {
                    subscription.cancel();
                    result.completeExceptionally(new BodyTooLongException(limit));
                    return;
                }
                n = limit - length;
            }
            ensureCapacity(length + n);
            target.put(length, buffer, buffer.position(), n);
            buffer.position(buffer.position() + n);
            length += n;
        }
    }

    private void ensureCapacity(int needed) {
        if (needed <= target.capacity()) {
            return;
        }
        if (!mayGrow) {
            // Cannot happen while limit <= target.length, which the caller guarantees.
            throw new IllegalStateException("body buffer too small");
        }
        int grown = (int) Math.min(limit, Math.max((long) needed, 2L * target.capacity() + 8192));
        ByteBuffer larger = ByteBuffer.allocate(grown);
        larger.put(0, target, 0, length);
        target = larger;
    }

    @Override
    public void onError(Throwable throwable) {
        result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
        result.complete(new Body(target, length));
    }

    @Override
    public CompletionStage<Body> getBody() {
        return result;
    }
}
