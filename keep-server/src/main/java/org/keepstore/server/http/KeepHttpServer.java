package org.keepstore.server.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.KeepStore;
import org.keepstore.core.worker.PullItem;
import org.keepstore.core.worker.TrashItem;
import org.keepstore.core.worker.WorkQueue;
import org.xnio.ChannelListeners;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * The Keep HTTP server: the protocol of SPEC §3 over Undertow, in front of one {@link KeepStore}.
 * Holds no static state, so several servers can run in one JVM (the tests do).
 *
 * <pre>{@code
 * KeepHttpServer server = KeepHttpServer.builder(store)
 *         .signer(signer).adminToken(token).pullQueue(pulls).trashQueue(trash)
 *         .build();
 * server.start("127.0.0.1", 0);
 * int port = server.port();
 * }</pre>
 */
public final class KeepHttpServer implements AutoCloseable {
    /** Time for a request's headers to arrive. */
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(60);
    /** Time a client may stall while the server waits to read from or write to it. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(120);
    /** Time for a whole request body (a 64 MiB block at about 110 kB/s). */
    public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofMinutes(10);


    private final KeepHandler handler;
    private final GracefulShutdownHandler shutdownHandler;
    private final int workerThreads;
    private final Duration headerTimeout;
    private XnioWorker worker;
    private HttpOpenListener openListener;
    private AcceptingChannel<StreamConnection> listener;
    /** Shutting down: answers close their connections, so clients reconnect elsewhere at once. */
    private volatile boolean draining;

    private KeepHttpServer(Builder b) {
        this.handler = new KeepHandler(b.store, b.signer, b.enforcePermissions, b.adminToken, b.managementToken,
                Objects.requireNonNull(b.pullQueue, "pullQueue"), Objects.requireNonNull(b.trashQueue, "trashQueue"),
                b.metrics, b.maxRequests);
        this.shutdownHandler = new GracefulShutdownHandler(new ClientTimeouts(handler, b.idleTimeout, b.bodyTimeout));
        this.headerTimeout = b.headerTimeout;
        // Every admitted request may block a worker thread (waiting for a buffer or a volume), so
        // there is one per admitted request plus a few spare.
        this.workerThreads = Math.min(b.maxRequests, 4096) + 8;
    }

    public static Builder builder(KeepStore store) {
        return new Builder(store);
    }

    /**
     * Binds and starts serving. {@code host} empty = every interface; {@code port} 0 = any free port.
     *
     * <p>Built from Undertow's parts rather than {@code Undertow.builder()} so that shutdown can
     * close the listening socket alone: the builder's server only offers a suspend that also
     * closes every open connection, which would cut requests in progress short.
     *
     * @throws IOException if the address cannot be bound
     */
    public synchronized void start(String host, int port) throws IOException {
        int ioThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        worker = Xnio.getInstance(Undertow.class.getClassLoader()).createWorker(OptionMap.builder()
                .set(Options.WORKER_IO_THREADS, ioThreads)
                .set(Options.WORKER_TASK_CORE_THREADS, workerThreads)
                .set(Options.WORKER_TASK_MAX_THREADS, workerThreads)
                .set(Options.WORKER_NAME, "keepstore")
                .set(Options.TCP_NODELAY, true)
                .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
                .set(Options.CONNECTION_LOW_WATER, 1_000_000)
                .set(Options.WORKER_TASK_KEEPALIVE, 60_000)
                .getMap());
        OptionMap socketOptions = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.REUSE_ADDRESSES, true)
                .set(Options.BACKLOG, 1000)
                // As Undertow's own builder configures its listeners.
                .set(Options.BALANCING_TOKENS, 1)
                .set(Options.BALANCING_CONNECTIONS, 2)
                .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
                .set(Options.CONNECTION_LOW_WATER, 1_000_000)
                .getMap();
        OptionMap undertowOptions = OptionMap.builder()
                .set(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, 300_000)
                // Slowloris: a request whose headers are not complete in time is dropped.
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int) Math.min(Integer.MAX_VALUE, headerTimeout.toMillis()))
                // Block bodies are limited by the engine (413 at byte 64 MiB + 1); pull and trash
                // lists from keep-balance can be larger than any block.
                .set(UndertowOptions.MAX_ENTITY_SIZE, Long.MAX_VALUE)
                .getMap();
        openListener = new HttpOpenListener(new DefaultByteBufferPool(true, 16 * 1024), undertowOptions);
        // CORS first, so even the 503s of a server draining for shutdown carry it.
        openListener.setRootHandler(exchange -> {
            Cors.addHeaders(exchange.getResponseHeaders());
            if (draining) {
                exchange.setPersistent(false); // "Connection: close" on the 503, and the close
            }
            shutdownHandler.handleRequest(exchange);
        });
        InetSocketAddress address = new InetSocketAddress(host == null || host.isEmpty() ? "0.0.0.0" : host, port);
        try {
            listener = worker.createStreamConnectionServer(address,
                    ChannelListeners.openListenerAdapter(openListener), socketOptions);
        } catch (IOException e) {
            worker.shutdownNow();
            worker = null;
            throw e;
        }
        listener.resumeAccepts();
    }

    /** The port actually bound. */
    public int port() {
        return listener.getLocalAddress(InetSocketAddress.class).getPort();
    }

    /** Requests being handled now (not counting health and metrics). */
    public int requestsInFlight() {
        return handler.requestsInFlight();
    }

    /**
     * Stops accepting connections, lets requests in progress finish for at most {@code drain}
     * (new requests on already open connections get 503), then closes every connection.
     *
     * @return true if every request finished in time
     */
    public synchronized boolean shutdown(Duration drain) throws InterruptedException {
        if (worker == null) {
            return true;
        }
        try {
            listener.close();
        } catch (IOException e) {
            // Closing a listening socket does not fail in a way we could act on.
        }
        draining = true;
        shutdownHandler.shutdown();
        boolean drained = shutdownHandler.awaitShutdown(Math.max(1, drain.toMillis()));
        openListener.closeConnections();
        worker.shutdown();
        if (!worker.awaitTermination(5, TimeUnit.SECONDS)) {
            worker.shutdownNow();
        }
        worker = null;
        handler.close();
        return drained;
    }

    /** {@link #shutdown} with a 10-second drain. */
    @Override
    public void close() {
        try {
            shutdown(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Collaborators and settings of a server. */
    public static final class Builder {
        private final KeepStore store;
        private BlobSigner signer;
        private boolean enforcePermissions;
        private String adminToken;
        private String managementToken;
        private WorkQueue<PullItem> pullQueue;
        private WorkQueue<TrashItem> trashQueue;
        private ServerMetrics metrics = new ServerMetrics();
        private int maxRequests;
        private Duration headerTimeout = DEFAULT_HEADER_TIMEOUT;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration bodyTimeout = DEFAULT_BODY_TIMEOUT;

        private Builder(KeepStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** Signs PUT responses when the request has a token; verifies GET/HEAD when enforcing. */
        public Builder signer(BlobSigner signer) {
            this.signer = signer;
            return this;
        }

        public Builder enforcePermissions(boolean enforce) {
            this.enforcePermissions = enforce;
            return this;
        }

        /** The data-manager token; null = admin endpoints refuse everyone. */
        public Builder adminToken(String token) {
            this.adminToken = token;
            return this;
        }

        /** The token {@code /metrics} and {@code /_health/ping} require; null or empty = open to anyone. */
        public Builder managementToken(String token) {
            this.managementToken = token;
            return this;
        }

        public Builder pullQueue(WorkQueue<PullItem> queue) {
            this.pullQueue = queue;
            return this;
        }

        public Builder trashQueue(WorkQueue<TrashItem> queue) {
            this.trashQueue = queue;
            return this;
        }

        /** The metrics the volumes report into (pass the same object to their {@code VolumeContext}). */
        public Builder metrics(ServerMetrics metrics) {
            this.metrics = Objects.requireNonNull(metrics);
            return this;
        }

        /** Requests in progress before 503; 0 = 2 × the buffer pool size. */
        public Builder maxRequests(int maxRequests) {
            this.maxRequests = maxRequests;
            return this;
        }

        /**
         * Limits on slow clients: {@code header} for a request's headers to arrive, {@code idle}
         * for a client to send or take any byte while the server waits on it, {@code body} for a
         * whole request body (64 MiB in 10 minutes by default, so a trickle cannot hold a buffer
         * for ever). Exceeding one closes the connection.
         */
        public Builder clientTimeouts(Duration header, Duration idle, Duration body) {
            this.headerTimeout = requirePositive(header, "header timeout");
            this.idleTimeout = requirePositive(idle, "idle timeout");
            this.bodyTimeout = requirePositive(body, "body timeout");
            return this;
        }

        private static Duration requirePositive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive");
            }
            return d;
        }

        public KeepHttpServer build() {
            if (enforcePermissions && signer == null) {
                throw new IllegalStateException("enforcing permissions needs a signer");
            }
            if (maxRequests <= 0) {
                maxRequests = 2 * store.bufferPool().maxBuffers();
            }
            return new KeepHttpServer(this);
        }
    }
}
