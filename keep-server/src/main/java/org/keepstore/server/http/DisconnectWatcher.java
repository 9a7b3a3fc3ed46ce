package org.keepstore.server.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.AbstractServerConnection;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.server.protocol.http.HttpServerConnection;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Notices when the client of a GET or HEAD goes away while its request waits (for a block buffer,
 * for a busy volume), and interrupts the waiting thread so the request gives up its place.
 *
 * <p>Undertow does not read from a connection while a request on it is being handled, so a closed
 * connection would only be noticed when the response is written — after a buffer was taken and a
 * whole block read for nobody. The watcher polls waiting requests with a non-blocking one-byte
 * read on the raw socket: end-of-stream or a reset means the client left. A GET has no body, so
 * a byte that does arrive is the start of a pipelined request; it is handed back to Undertow and
 * that connection is not probed again.
 */
final class DisconnectWatcher implements AutoCloseable {
    private static final long PERIOD_MILLIS = 250;

    /** One waiting request. All probing and un-watching happens under its monitor. */
    static final class Watch {
        private final HttpServerExchange exchange;
        private final Thread thread;
        private boolean active = true;

        private Watch(HttpServerExchange exchange, Thread thread) {
            this.exchange = exchange;
            this.thread = thread;
        }
    }

    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "keepstore-disconnect-watcher");
        t.setDaemon(true);
        return t;
    });

    DisconnectWatcher() {
        timer.scheduleWithFixedDelay(this::probeAll, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Starts watching the client of {@code exchange} (a request without a body) for the current thread. */
    Watch watch(HttpServerExchange exchange) {
        Watch w = new Watch(exchange, Thread.currentThread());
        if (exchange.getConnection() instanceof HttpServerConnection) {
            watches.add(w);
        }
        return w;
    }

    /** Stops watching; once this returns, the watcher will neither read from the connection nor interrupt. */
    void unwatch(Watch w) {
        synchronized (w) {
            w.active = false;
        }
        watches.remove(w);
    }

    private void probeAll() {
        for (Watch w : watches) {
            synchronized (w) {
                if (!w.active) {
                    continue;
                }
                Boolean gone = probe(w.exchange.getConnection());
                if (gone == null) {
                    // Pipelined bytes: the client is alive and the connection is Undertow's again.
                    w.active = false;
                    watches.remove(w);
                } else if (gone) {
                    w.active = false;
                    watches.remove(w);
                    w.thread.interrupt();
                }
            }
        }
    }

    /** True if the client left, false if nothing happened, null if data arrived (given back). */
    private static Boolean probe(ServerConnection connection) {
        if (!connection.isOpen()) {
            return true;
        }
        AbstractServerConnection server = (AbstractServerConnection) connection;
        if (server.getExtraBytes() != null) {
            // Undertow already holds bytes of a pipelined request: the client is there, and a byte
            // read now would have to go behind those, which unget cannot do.
            return null;
        }
        StreamSourceConduit raw = server.getOriginalSourceConduit();
        ByteBuffer one = ByteBuffer.allocate(1);
        int n;
        try {
            n = raw.read(one);
        } catch (IOException e) {
            return true;
        }
        if (n < 0) {
            return true;
        }
        if (n == 0) {
            return false;
        }
        one.flip();
        // Hand the byte back in front of whatever Undertow reads next (it holds nothing yet).
        PooledByteBuffer pooled = connection.getByteBufferPool().allocate();
        pooled.getBuffer().clear();
        pooled.getBuffer().put(one);
        pooled.getBuffer().flip();
        ((HttpServerConnection) connection).ungetRequestBytes(pooled);
        return null;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
