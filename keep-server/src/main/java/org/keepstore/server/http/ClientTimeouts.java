package org.keepstore.server.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Ends requests whose client stalls: a request body that stops arriving or trickles in for longer
 * than the body timeout, or a response the client stops reading. Without this, such clients keep a
 * worker thread, a request slot and a 64 MiB buffer for as long as they like.
 *
 * <p>Only time spent waiting on the client counts. Undertow's own READ_TIMEOUT/WRITE_TIMEOUT
 * options are not used because they also fire while the handler is busy elsewhere (waiting for a
 * buffer, writing to a slow volume) without touching the connection. Slow request headers are
 * Undertow's REQUEST_PARSE_TIMEOUT, set by {@link KeepHttpServer}.
 */
final class ClientTimeouts implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(ClientTimeouts.class);

    private final HttpHandler next;
    private final long idleNanos;
    private final long bodyNanos;
    private final long checkMillis;

    /**
     * @param idle longest wait for the client to send or take a single byte
     * @param body longest time from the first read of a request body to its end
     */
    ClientTimeouts(HttpHandler next, Duration idle, Duration body) {
        this.next = next;
        this.idleNanos = idle.toNanos();
        this.bodyNanos = body.toNanos();
        this.checkMillis = Math.max(100, Math.min(1000, Math.min(idle.toMillis(), body.toMillis()) / 4));
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        Watch watch = new Watch(ex);
        ex.addRequestWrapper((factory, exchange) -> new WatchedSource(factory.create(), watch));
        ex.addResponseWrapper((factory, exchange) -> new WatchedSink(factory.create(), watch));
        ex.addExchangeCompleteListener((exchange, nextListener) -> {
            watch.finished();
            nextListener.proceed();
        });
        watch.schedule();
        next.handleRequest(ex);
    }

    /** The clock of one exchange's client I/O, checked periodically on the connection's I/O thread. */
    private final class Watch implements Runnable {
        private final HttpServerExchange ex;
        /** When the current wait for the client began; 0 when not waiting. */
        private volatile long waitingSince;
        /** When the first byte of the request body was asked for; 0 before. */
        private volatile long bodyStarted;
        private volatile boolean bodyEnded;
        private volatile boolean finished;
        private XnioExecutor.Key key;

        Watch(HttpServerExchange ex) {
            this.ex = ex;
        }

        synchronized void schedule() {
            if (!finished) {
                key = ex.getIoThread().executeAfter(this, checkMillis, TimeUnit.MILLISECONDS);
            }
        }

        synchronized void finished() {
            finished = true;
            if (key != null) {
                key.remove();
            }
        }

        void bodyRead(long result) {
            if (bodyStarted == 0) {
                bodyStarted = System.nanoTime();
            }
            if (result < 0) {
                bodyEnded = true;
            }
        }

        void waiting() {
            waitingSince = System.nanoTime();
        }

        void doneWaiting() {
            waitingSince = 0;
        }

        @Override
        public void run() {
            if (finished) {
                return;
            }
            long now = System.nanoTime();
            long since = waitingSince;
            String reason = null;
            if (since != 0 && now - since > idleNanos) {
                reason = "client sent or took nothing for " + Duration.ofNanos(idleNanos).toSeconds() + "s";
            } else if (bodyStarted != 0 && !bodyEnded && !ex.isRequestComplete() && now - bodyStarted > bodyNanos) {
                reason = "request body not complete after " + Duration.ofNanos(bodyNanos).toSeconds() + "s";
            }
            if (reason == null) {
                schedule();
                return;
            }
            log.info("closing the connection of {} {} from {}: {}", ex.getRequestMethod(),
                    RequestLog.redact(ex.getRequestPath(), null), ex.getSourceAddress(), reason);
            IoUtils.safeClose(ex.getConnection());
        }
    }

    private static final class WatchedSource extends AbstractStreamSourceConduit<StreamSourceConduit> {
        private final Watch watch;

        WatchedSource(StreamSourceConduit next, Watch watch) {
            super(next);
            this.watch = watch;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = super.read(dst);
            watch.bodyRead(n);
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            long n = super.read(dsts, offs, len);
            watch.bodyRead(n);
            return n;
        }

        @Override
        public void awaitReadable() throws IOException {
            watch.waiting();
            try {
                super.awaitReadable();
            } finally {
                watch.doneWaiting();
            }
        }

        @Override
        public void awaitReadable(long time, TimeUnit timeUnit) throws IOException {
            watch.waiting();
            try {
                super.awaitReadable(time, timeUnit);
            } finally {
                watch.doneWaiting();
            }
        }
    }

    private static final class WatchedSink extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final Watch watch;

        WatchedSink(StreamSinkConduit next, Watch watch) {
            super(next);
            this.watch = watch;
        }

        @Override
        public void awaitWritable() throws IOException {
            watch.waiting();
            try {
                super.awaitWritable();
            } finally {
                watch.doneWaiting();
            }
        }

        @Override
        public void awaitWritable(long time, TimeUnit timeUnit) throws IOException {
            watch.waiting();
            try {
                super.awaitWritable(time, timeUnit);
            } finally {
                watch.doneWaiting();
            }
        }
    }
}
