package org.keepstore.server.http;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpContinue;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.BlockSink;
import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.WriteResult;
import org.keepstore.core.worker.PullItem;
import org.keepstore.core.worker.TrashItem;
import org.keepstore.core.worker.WorkQueue;
import org.xnio.IoUtils;
import org.xnio.channels.Channels;
import org.xnio.channels.StreamSinkChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Keep HTTP protocol (SPEC §3). The part that runs on Undertow's I/O threads only stamps
 * headers, counts the request against {@code -max-requests} and answers what never waits:
 * health, metrics, OPTIONS, and GETs of small blocks the volumes hold in memory
 * ({@link #serveIfAtHand}). Everything that may block — the engine's reads and writes,
 * volumes, buffers, request bodies — is dispatched to a worker thread. Engine errors are
 * {@link KeepException}s and become a status and a one-line message in {@link #sendError}, the
 * one place where that happens.
 */
final class KeepHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(KeepHandler.class);

    private static final HttpString TOUCH = HttpString.tryFromString("TOUCH");
    private static final HttpString X_REQUEST_ID = HttpString.tryFromString("X-Request-Id");
    private static final HttpString X_KEEP_REPLICAS_STORED = HttpString.tryFromString("X-Keep-Replicas-Stored");
    private static final HttpString X_KEEP_CLASSES_CONFIRMED =
            HttpString.tryFromString("X-Keep-Storage-Classes-Confirmed");
    private static final String X_KEEP_STORAGE_CLASSES = "X-Keep-Storage-Classes";
    private static final String REMOTE_NOT_CONFIGURED = "remote cluster not configured";
    private static final String BAD_REQUEST = "Bad Request";
    private static final String BUSY = "server busy: too many requests in progress";

    private static final AttachmentKey<RequestInfo> REQUEST_INFO = AttachmentKey.create(RequestInfo.class);

    /** What the access log and metrics need about one request. */
    private static final class RequestInfo {
        final long startNanos = System.nanoTime();
        String requestId;
        boolean countedInFlight;
        volatile RequestBody body;
        /** The worker thread to interrupt if the client goes away while it waits. */
        volatile Thread waitingThread;
    }

    /** Thrown out of a {@link BlockSink} path to say the response was already started. */
    private static final class ResponseAbandoned extends IOException {
        ResponseAbandoned(Throwable cause) {
            super(cause);
        }
    }

    private final KeepStore store;
    private final BlobSigner signer;
    private final boolean enforcePermissions;
    private final byte[] adminToken;
    /** Guards health and metrics when set (the cluster config's {@code ManagementToken}); null = open. */
    private final byte[] managementToken;
    private final WorkQueue<PullItem> pullQueue;
    private final WorkQueue<TrashItem> trashQueue;
    private final ServerMetrics metrics;
    private final int maxRequests;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final RequestLog requestLog = new RequestLog();
    private final ObjectMapper json = new ObjectMapper();
    private final ServerMetrics.Gauges gauges;
    private final DisconnectWatcher disconnectWatcher = new DisconnectWatcher();

    KeepHandler(KeepStore store, BlobSigner signer, boolean enforcePermissions, String adminToken,
                String managementToken, WorkQueue<PullItem> pullQueue, WorkQueue<TrashItem> trashQueue,
                ServerMetrics metrics, int maxRequests) {
        this.store = store;
        this.signer = signer;
        this.enforcePermissions = enforcePermissions;
        this.adminToken = adminToken == null ? null : adminToken.getBytes(StandardCharsets.UTF_8);
        this.managementToken = managementToken == null || managementToken.isEmpty() ? null
                : managementToken.getBytes(StandardCharsets.UTF_8);
        this.pullQueue = pullQueue;
        this.trashQueue = trashQueue;
        this.metrics = metrics;
        this.maxRequests = maxRequests;
        this.gauges = new ServerMetrics.Gauges() {
            @Override
            public long bufferBytesAllocated() {
                return store.bufferPool().bytesAllocated();
            }

            @Override
            public int buffersMax() {
                return store.bufferPool().maxBuffers();
            }

            @Override
            public int buffersInUse() {
                return store.bufferPool().inUse();
            }

            @Override
            public int pullQueued() {
                return pullQueue.queued();
            }

            @Override
            public int pullInProgress() {
                return pullQueue.inProgress();
            }

            @Override
            public int trashQueued() {
                return trashQueue.queued();
            }

            @Override
            public int trashInProgress() {
                return trashQueue.inProgress();
            }

            @Override
            public int requestsInFlight() {
                return inFlight.get();
            }

            @Override
            public int requestsMax() {
                return KeepHandler.this.maxRequests;
            }
        };
    }

    /** Stops the helper thread. */
    void close() {
        disconnectWatcher.close();
    }

    int requestsInFlight() {
        return inFlight.get();
    }

    // ---------------------------------------------------------------- entry (I/O thread)

    @Override
    public void handleRequest(HttpServerExchange ex) {
        RequestInfo info = new RequestInfo();
        ex.putAttachment(REQUEST_INFO, info);
        String requestId = ex.getRequestHeaders().getFirst(X_REQUEST_ID);
        info.requestId = requestId == null || requestId.isBlank() ? requestLog.newRequestId() : requestId;
        HeaderMap headers = ex.getResponseHeaders();
        headers.put(X_REQUEST_ID, info.requestId);
        Cors.addHeaders(headers);
        ex.addExchangeCompleteListener((exchange, next) -> {
            try {
                finished(exchange, info);
            } finally {
                next.proceed();
            }
        });
        watchConnectionClose(ex, info);

        String path = ex.getRequestPath();
        HttpString method = ex.getRequestMethod();
        if (method.equalToString("OPTIONS")) {
            ex.setStatusCode(200);
            ex.endExchange();
            return;
        }
        // Health and metrics are exempt from -max-requests and never wait for a worker thread.
        // HEAD is answered wherever GET is, as Go's server does: same status and headers, no body.
        boolean getOrHead = method.equalToString("GET") || method.equalToString("HEAD");
        if (path.equals("/_health/ping") && getOrHead) {
            if (managementAllowed(ex)) {
                sendText(ex, 200, "application/json", "{\"health\":\"OK\"}\n");
            }
            return;
        }
        if (path.equals("/metrics") && getOrHead) {
            if (managementAllowed(ex)) {
                sendText(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(gauges));
            }
            return;
        }
        if (inFlight.incrementAndGet() > maxRequests) {
            inFlight.decrementAndGet();
            // Any request body is discarded by Undertow after the answer; closing the connection
            // instead could reset it before the client has read the 503.
            if (getOrHead) {
                ex.getResponseHeaders().put(Headers.VARY, "X-Keep-Signature"); // as every block read's answer
            }
            sendText(ex, 503, "text/plain; charset=utf-8", BUSY + "\n");
            return;
        }
        info.countedInFlight = true;
        if (serveIfAtHand(ex, method, path)) {
            return;
        }
        ex.dispatch(() -> handleBlocking(ex, info));
    }

    /**
     * Answers a GET of a small block right here on the I/O thread when the block can be read
     * without any waiting ({@link KeepStore#readIfAtHand}: from the page cache, verified). For a
     * 1 KiB block, handing the request to a worker thread and back costs several times the read
     * itself. Anything else, including every error to report, goes the usual way.
     *
     * @return whether the request was answered
     */
    private boolean serveIfAtHand(HttpServerExchange ex, HttpString method, String path) {
        // "/" + a locator with a size hint: at least 32 hex digits, "+" and one digit.
        if (!method.equalToString("GET") || path.length() < 35 || path.indexOf('/', 1) >= 0) {
            return false;
        }
        Locator locator;
        try {
            locator = Locator.parse(path.substring(1));
        } catch (KeepException e) {
            return false;
        }
        if (locator.size() <= 0 || locator.size() > KeepStore.AT_HAND_LIMIT || locator.remoteHint() != null) {
            return false;
        }
        if (enforcePermissions) {
            String token = token(ex);
            if (token == null || token.isEmpty() || signer.check(locator, token) != BlobSigner.Verdict.VALID) {
                return false;
            }
        }
        ByteBuffer block = store.readIfAtHand(locator.hash(), locator.size());
        if (block == null) {
            return false;
        }
        HeaderMap headers = ex.getResponseHeaders();
        headers.put(Headers.VARY, "X-Keep-Signature");
        ex.setStatusCode(200);
        headers.put(Headers.CONTENT_LENGTH, block.remaining());
        headers.put(Headers.CONTENT_TYPE, "application/octet-stream");
        ex.getResponseSender().send(block); // never blocks; ends the exchange once sent
        return true;
    }

    /** Which request (if any) a connection is serving now; requests on one connection come one at a time. */
    private static final class ConnectionState {
        volatile RequestInfo current;
    }

    private static final AttachmentKey<ConnectionState> CONNECTION_STATE = AttachmentKey.create(ConnectionState.class);

    /**
     * If Undertow sees the connection close while a request on it waits, interrupt the wait. One
     * close listener per connection (not per request), so keep-alive connections do not pile them up.
     */
    private static void watchConnectionClose(HttpServerExchange ex, RequestInfo info) {
        io.undertow.server.ServerConnection connection = ex.getConnection();
        ConnectionState state = connection.getAttachment(CONNECTION_STATE);
        if (state == null) {
            ConnectionState created = new ConnectionState();
            connection.putAttachment(CONNECTION_STATE, created);
            connection.addCloseListener(closed -> {
                RequestInfo current = created.current;
                Thread waiting = current == null ? null : current.waitingThread;
                if (waiting != null) {
                    waiting.interrupt();
                }
            });
            state = created;
        }
        state.current = info;
    }

    private void finished(HttpServerExchange ex, RequestInfo info) {
        if (info.countedInFlight) {
            inFlight.decrementAndGet();
        }
        long duration = System.nanoTime() - info.startNanos;
        // An exchange that the connection's close ended before any answer went out was not a
        // 200, whatever its status field says. Undertow drops the connection, for example, on a
        // chunked body that breaks off or is malformed (the response never completes), and when
        // shutdown closes a connection whose request is still at work it ends the exchange
        // itself, completing a "response" that cannot reach the client (the connection is
        // already closed then; a real answer completes while it is open). Record either as
        // "client closed request" (nginx's 499), as abort() does.
        boolean unanswered = ex.getResponseBytesSent() == 0
                && (!ex.isResponseComplete() || !ex.getConnection().isOpen());
        int status = unanswered ? 499 : ex.getStatusCode();
        metrics.observeRequest(status, ex.getRequestMethod().toString(), duration);
        RequestBody body = info.body;
        requestLog.log(ex.getRequestMethod().toString(), ex.getRequestPath(), ex.getQueryString(), status,
                body == null ? 0 : body.count(), ex.getResponseBytesSent(), duration, info.requestId);
    }

    // ---------------------------------------------------------------- routing (worker thread)

    private void handleBlocking(HttpServerExchange ex, RequestInfo info) {
        ex.startBlocking();
        try {
            route(ex, info);
        } catch (ResponseAbandoned e) {
            abort(ex, e.getCause());
            return;
        } catch (KeepException e) {
            sendError(ex, e.status(), e.getMessage());
        } catch (InterruptedException e) {
            // The client went away while we waited (for a buffer, a volume): nobody to answer.
            abort(ex, e);
            return;
        } catch (IOException | RuntimeException e) {
            if (ex.isResponseStarted()) {
                abort(ex, e);
                return;
            }
            log.error("{} {}: {}", ex.getRequestMethod(), RequestLog.redact(ex.getRequestPath(), null), e.toString(), e);
            sendError(ex, 500, "internal server error");
        } finally {
            info.waitingThread = null;
            Thread.interrupted();
        }
        ex.endExchange();
    }

    private void route(HttpServerExchange ex, RequestInfo info) throws IOException, InterruptedException {
        String path = ex.getRequestPath();
        HttpString method = ex.getRequestMethod();
        boolean get = method.equalToString("GET");
        boolean head = method.equalToString("HEAD");
        boolean put = method.equalToString("PUT");

        switch (path) {
            case "/status.json" -> {
                requireMethod(get || head);
                sendJson(ex, statusJson());
                return;
            }
            case "/index" -> {
                requireMethod(get || head);
                requireAdmin(ex);
                index(ex, null, queryPrefix(ex, ""));
                return;
            }
            case "/mounts" -> {
                requireMethod(get || head);
                requireAdmin(ex);
                sendJson(ex, mountsJson());
                return;
            }
            case "/pull" -> {
                requireMethod(put);
                requireAdmin(ex);
                pullList(ex, info);
                return;
            }
            case "/trash" -> {
                requireMethod(put);
                requireAdmin(ex);
                trashList(ex, info);
                return;
            }
            default -> {
            }
        }
        if (path.startsWith("/index/")) {
            requireMethod(get || head);
            requireAdmin(ex);
            index(ex, null, queryPrefix(ex, checkPrefix(path.substring("/index/".length()))));
            return;
        }
        if (path.startsWith("/mounts/")) {
            requireMethod(get || head);
            String[] parts = path.substring("/mounts/".length()).split("/", -1);
            if (parts.length < 2 || parts.length > 3 || !parts[1].equals("blocks") || parts[0].isEmpty()) {
                throw KeepException.badRequest(BAD_REQUEST);
            }
            requireAdmin(ex);
            String prefix = queryPrefix(ex, parts.length == 3 ? checkPrefix(parts[2]) : "");
            index(ex, parts[0], prefix);
            return;
        }
        if (path.startsWith("/untrash/")) {
            requireMethod(put);
            requireAdmin(ex);
            Locator locator = Locator.parse(path.substring("/untrash/".length()));
            store.untrash(locator.hash());
            sendText(ex, 200, "text/plain; charset=utf-8", "");
            return;
        }

        String target = path.substring(1);
        if ((get || head) && target.startsWith("/")) {
            // GET //LOCATOR is served like GET /LOCATOR (some clients join URLs that way).
            target = target.substring(1);
        }
        if (target.isEmpty() || target.contains("/")) {
            throw KeepException.badRequest(BAD_REQUEST);
        }
        if (get || head) {
            getBlock(ex, info, target, head);
        } else if (put) {
            putBlock(ex, info, target);
        } else if (method.equalToString("DELETE")) {
            requireAdmin(ex);
            store.trash(Locator.parse(target).hash());
            sendText(ex, 200, "text/plain; charset=utf-8", "");
        } else if (method.equals(TOUCH)) {
            requireAdmin(ex);
            store.touch(Locator.parse(target).hash());
            sendText(ex, 200, "text/plain; charset=utf-8", "");
        } else {
            throw KeepException.badRequest(BAD_REQUEST);
        }
    }

    private static void requireMethod(boolean matches) throws KeepException {
        if (!matches) {
            throw KeepException.badRequest(BAD_REQUEST);
        }
    }

    // ---------------------------------------------------------------- authentication

    /** The request's token: {@code Authorization: Bearer|OAuth2 T}, else {@code api_token}; null if none. */
    static String token(HttpServerExchange ex) {
        String authorization = ex.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (authorization != null) {
            String[] parts = authorization.trim().split("\\s+", 2);
            if (parts.length == 2 && (parts[0].equalsIgnoreCase("Bearer") || parts[0].equalsIgnoreCase("OAuth2"))
                    && !parts[1].isBlank()) {
                return parts[1].trim();
            }
        }
        Deque<String> values = ex.getQueryParameters().get("api_token");
        if (values != null && !values.isEmpty() && !values.getFirst().isEmpty()) {
            return values.getFirst();
        }
        return null;
    }

    /** Every token the request carries: the {@code Authorization} header's, then each {@code api_token}. */
    static List<String> tokens(HttpServerExchange ex) {
        List<String> tokens = new ArrayList<>(2);
        String header = token(ex);
        if (header != null) {
            tokens.add(header);
        }
        Deque<String> values = ex.getQueryParameters().get("api_token");
        if (values != null) {
            for (String value : values) {
                if (!value.isEmpty() && !value.equals(header)) {
                    tokens.add(value);
                }
            }
        }
        return tokens;
    }

    /**
     * Admin endpoints: no token → 401; no token that is the admin token → 403 (also when none is
     * configured). Like the reference, every token the request carries is tried.
     */
    private void requireAdmin(HttpServerExchange ex) throws KeepException {
        List<String> tokens = tokens(ex);
        if (tokens.isEmpty()) {
            throw KeepException.unauthorized(KeepException.NO_TOKEN);
        }
        boolean admin = false;
        for (String token : tokens) {
            // Compare every one (constant time each), so timing does not say which matched.
            admin |= adminToken != null && MessageDigest.isEqual(adminToken, token.getBytes(StandardCharsets.UTF_8));
        }
        if (!admin) {
            throw KeepException.forbidden("Forbidden");
        }
    }

    /**
     * With a management token configured, health and metrics need it: no token → 401, another
     * token → 403 (answered here). Without one they are open to anyone.
     */
    private boolean managementAllowed(HttpServerExchange ex) {
        if (managementToken == null) {
            return true;
        }
        String token = token(ex);
        if (token == null) {
            sendText(ex, 401, "text/plain; charset=utf-8", KeepException.NO_TOKEN + "\n");
            return false;
        }
        if (!MessageDigest.isEqual(managementToken, token.getBytes(StandardCharsets.UTF_8))) {
            sendText(ex, 403, "text/plain; charset=utf-8", "Forbidden\n");
            return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- blocks

    private void putBlock(HttpServerExchange ex, RequestInfo info, String target)
            throws IOException, InterruptedException {
        Locator locator = Locator.parse(target);
        long contentLength = -1;
        String lengthHeader = ex.getRequestHeaders().getFirst(Headers.CONTENT_LENGTH);
        if (lengthHeader != null) {
            try {
                contentLength = Long.parseLong(lengthHeader.trim());
            } catch (NumberFormatException e) {
                throw KeepException.badRequest("invalid Content-Length");
            }
            if (contentLength < 0) {
                throw KeepException.badRequest("invalid Content-Length");
            }
            if (contentLength > Locator.MAX_BLOCK_SIZE) {
                throw KeepException.tooLarge();
            }
        }
        Set<String> classes = storageClasses(ex.getRequestHeaders().get(X_KEEP_STORAGE_CLASSES));
        if (HttpContinue.requiresContinueResponse(ex)) {
            // Clients wait (about a second) for this before sending the body; answer at once.
            HttpContinue.sendContinueResponseBlocking(ex);
        }
        RequestBody body = new RequestBody(ex.getRequestChannel());
        info.body = body;
        WriteResult result;
        info.waitingThread = Thread.currentThread();
        try {
            result = store.write(locator.hash(), body, contentLength, classes);
        } catch (IOException e) {
            if (body.failure() != null && !(e instanceof KeepException)) {
                // The client's body broke off (or was cut by Undertow): the client's fault, not ours.
                throw KeepException.badRequest("request body ended early: " + body.failure().getMessage());
            }
            throw e;
        } finally {
            info.waitingThread = null;
        }
        String token = token(ex);
        Locator answer = signer != null && token != null ? signer.sign(result.locator(), token) : result.locator();
        HeaderMap headers = ex.getResponseHeaders();
        headers.put(X_KEEP_REPLICAS_STORED, Integer.toString(result.replicas()));
        List<String> confirmed = new ArrayList<>();
        for (Map.Entry<String, Integer> e : result.classesConfirmed().entrySet()) {
            confirmed.add(e.getKey() + "=" + e.getValue());
        }
        headers.put(X_KEEP_CLASSES_CONFIRMED, String.join(", ", confirmed));
        sendText(ex, 200, "text/plain; charset=utf-8", answer + "\n");
    }

    static Set<String> storageClasses(Iterable<String> headerValues) {
        Set<String> classes = new LinkedHashSet<>();
        if (headerValues != null) {
            for (String value : headerValues) {
                for (String c : value.split(",")) {
                    String trimmed = c.trim();
                    if (!trimmed.isEmpty()) {
                        classes.add(trimmed);
                    }
                }
            }
        }
        return classes;
    }

    private void getBlock(HttpServerExchange ex, RequestInfo info, String target, boolean head)
            throws IOException, InterruptedException {
        // Before anything can fail: a cache must not reuse any answer for a request with another signature.
        ex.getResponseHeaders().put(Headers.VARY, "X-Keep-Signature");
        Locator locator = Locator.parse(target);
        if (locator.remoteHint() != null) {
            throw KeepException.badRequest(REMOTE_NOT_CONFIGURED);
        }
        if (enforcePermissions) {
            signer.verify(locator, token(ex));
        }
        // GET needs the size to tell a short body from a complete one; HEAD does not (SPEC §3).
        // "+0" on any block but the empty one tells nothing either: the reference takes it as no hint.
        boolean sizeKnown = locator.hasSize() && locator.size() > 0;
        if (!head && !sizeKnown && !locator.hash().equals(Locator.EMPTY_BLOCK_HASH)) {
            throw KeepException.methodNotAllowed();
        }
        // Waiting for a buffer or a volume: if the client leaves meanwhile, give up the place.
        DisconnectWatcher.Watch watch = disconnectWatcher.watch(ex);
        try {
            if (head) {
                long size = store.verify(locator.hash());
                ex.setStatusCode(200);
                ex.getResponseHeaders().put(Headers.CONTENT_LENGTH, size);
                ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/octet-stream");
                return;
            }
            // The watch ends before the first response byte: once the response can be complete,
            // the client may send its next request, and a probe would take that request's first
            // byte (a race seen as "ET /..." 400s under load). From then on a client that left
            // shows up as a failed write instead.
            StreamingSink sink = new StreamingSink(ex, () -> disconnectWatcher.unwatch(watch));
            try {
                store.read(locator.hash(), sizeKnown ? locator.size() : -1, sink);
            } catch (IOException | RuntimeException e) {
                if (sink.begun) {
                    // Bytes of this copy may already be on the wire: end the body short so the
                    // client can never take it for a complete block.
                    throw new ResponseAbandoned(e);
                }
                throw e;
            }
            sink.finish();
        } finally {
            disconnectWatcher.unwatch(watch);
        }
    }

    /**
     * Streams a block into the response; Content-Length comes from {@link #begin}. Chunks are
     * written to the response channel as they are, so a direct pool buffer goes from memory to
     * the socket with no copy in the JVM.
     */
    private static final class StreamingSink implements BlockSink {
        /**
         * A heap chunk is written in slices of at most this size: the JDK copies each into a
         * temporary direct buffer, which it keeps for reuse only up to the launcher's
         * jdk.nio.maxCachedBufferSize (256 KiB).
         */
        private static final int HEAP_SLICE = 256 << 10;

        private final HttpServerExchange ex;
        private final Runnable beforeFirstByte;
        private StreamSinkChannel channel;
        boolean begun;

        StreamingSink(HttpServerExchange ex, Runnable beforeFirstByte) {
            this.ex = ex;
            this.beforeFirstByte = beforeFirstByte;
        }

        @Override
        public void begin(long size) {
            beforeFirstByte.run();
            begun = true;
            ex.setStatusCode(200);
            ex.getResponseHeaders().put(Headers.CONTENT_LENGTH, size);
            ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/octet-stream");
            channel = ex.getResponseChannel();
        }

        @Override
        public void write(ByteBuffer chunk) throws IOException {
            if (chunk.isDirect() || chunk.remaining() <= HEAP_SLICE) {
                Channels.writeBlocking(channel, chunk);
                return;
            }
            int end = chunk.limit();
            while (chunk.position() < end) {
                chunk.limit(Math.min(end, chunk.position() + HEAP_SLICE));
                Channels.writeBlocking(channel, chunk);
            }
            chunk.limit(end);
        }

        /** Ends the body and waits until it left (a block of zero bytes has only its headers). */
        void finish() throws IOException {
            if (channel == null) {
                return;
            }
            channel.shutdownWrites();
            Channels.flushBlocking(channel);
        }
    }

    // ---------------------------------------------------------------- index

    /** A non-empty {@code ?prefix=} wins over the prefix in the path, as in the reference server. */
    private static String queryPrefix(HttpServerExchange ex, String pathPrefix) throws KeepException {
        Deque<String> values = ex.getQueryParameters().get("prefix");
        return values == null || values.isEmpty() || values.getFirst().isEmpty() ? pathPrefix
                : checkPrefix(values.getFirst());
    }

    private static String checkPrefix(String prefix) throws KeepException {
        if (prefix.length() > 32) {
            throw KeepException.badRequest("invalid prefix");
        }
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw KeepException.badRequest("invalid prefix");
            }
        }
        return prefix;
    }

    /** Streams {@code HASH+SIZE MTIME\n} lines; the final empty line says the listing is complete. */
    private void index(HttpServerExchange ex, String mountUuid, String prefix) throws IOException {
        if (mountUuid != null && store.mount(mountUuid) == null) {
            throw new KeepException(404, KeepException.NOT_FOUND);
        }
        ex.setStatusCode(200);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        OutputStream out = new BufferedOutputStream(ex.getOutputStream(), 64 * 1024);
        StringBuilder line = new StringBuilder(80);
        try {
            org.keepstore.core.IndexSink sink = (hash, size, mtimeNanos) -> {
                line.setLength(0);
                line.append(hash).append('+').append(size).append(' ').append(mtimeNanos).append('\n');
                out.write(line.toString().getBytes(StandardCharsets.US_ASCII));
            };
            if (mountUuid == null) {
                store.index(prefix, sink);
            } else {
                store.index(mountUuid, prefix, sink);
            }
        } catch (IOException | RuntimeException e) {
            if (ex.isResponseStarted()) {
                // Part of the index is out: end without the completeness marker.
                log.warn("index listing failed midway: {}", e.toString());
                throw new ResponseAbandoned(e);
            }
            // Nothing sent yet: discard what is buffered and answer with the error instead.
            ex.getResponseHeaders().remove(Headers.CONTENT_TYPE);
            throw e;
        }
        out.write('\n');
        out.close();
    }

    // ---------------------------------------------------------------- pull and trash lists

    private void pullList(HttpServerExchange ex, RequestInfo info) throws IOException {
        List<PullItem> items = readList(ex, info, WorkLists::pullItem);
        pullQueue.replace(items);
        sendText(ex, 200, "text/plain; charset=utf-8", "Received " + items.size() + " pull requests\n");
    }

    private void trashList(HttpServerExchange ex, RequestInfo info) throws IOException {
        List<TrashItem> items = readList(ex, info, WorkLists::trashItem);
        trashQueue.replace(items);
        sendText(ex, 200, "text/plain; charset=utf-8", "Received " + items.size() + " trash requests\n");
    }

    private <T> List<T> readList(HttpServerExchange ex, RequestInfo info, WorkLists.ItemReader<T> reader)
            throws IOException {
        if (HttpContinue.requiresContinueResponse(ex)) {
            // Undertow does not invite the body by itself when it is read in blocking mode.
            HttpContinue.sendContinueResponseBlocking(ex);
        }
        RequestBody body = new RequestBody(ex.getRequestChannel());
        info.body = body;
        return WorkLists.readList(json, java.nio.channels.Channels.newInputStream(body), reader);
    }

    // ---------------------------------------------------------------- status

    private Object statusJson() {
        return StatusReports.status(store, pullQueue, trashQueue, inFlight.get(), maxRequests);
    }

    private Object mountsJson() {
        return StatusReports.mounts(store);
    }

    // ---------------------------------------------------------------- responses

    private void sendJson(HttpServerExchange ex, Object value) throws IOException {
        sendText(ex, 200, "application/json", json.writeValueAsString(value) + "\n");
    }

    /** A whole small response in one write, so it leaves without waiting for more data. */
    private static void sendText(HttpServerExchange ex, int status, String contentType, String body) {
        if (HttpContinue.requiresContinueResponse(ex) && !HttpContinue.isContinueResponseSent(ex)) {
            // The client waits for "100 Continue" before sending its body and will not send it
            // now; the connection cannot carry another request, because Undertow would take the
            // next bytes for this request's body. Say so, and close after answering.
            ex.setPersistent(false);
        }
        ex.setStatusCode(status);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (!body.isEmpty()) {
            ex.getResponseHeaders().put(Headers.CONTENT_TYPE, contentType);
        }
        ex.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length);
        if (ex.isBlocking()) {
            try {
                OutputStream out = ex.getOutputStream();
                out.write(bytes);
                out.close();
            } catch (IOException e) {
                IoUtils.safeClose(ex.getConnection());
            }
        } else {
            ex.getResponseSender().send(ByteBuffer.wrap(bytes));
        }
    }

    private static void sendError(HttpServerExchange ex, int status, String message) {
        if (ex.isResponseStarted()) {
            IoUtils.safeClose(ex.getConnection());
            return;
        }
        if (status == 413) {
            // Up to the rest of a huge body is unread: close after answering rather than drain it.
            ex.setPersistent(false);
        }
        ex.getResponseHeaders().remove(Headers.CONTENT_LENGTH);
        String line = message == null ? "error" : message.replace('\n', ' ');
        sendText(ex, status, "text/plain; charset=utf-8", line + "\n");
    }

    private static void abort(HttpServerExchange ex, Throwable cause) {
        log.warn("{} {}: response abandoned: {}", ex.getRequestMethod(),
                RequestLog.redact(ex.getRequestPath(), null), cause == null ? "" : cause.toString());
        if (!ex.isResponseStarted()) {
            // Nothing was sent: record it as "client closed request" (nginx's 499), not as a 200.
            ex.setStatusCode(499);
        }
        IoUtils.safeClose(ex.getConnection());
        try {
            ex.endExchange();
        } catch (RuntimeException e) {
            // The connection is gone; the exchange ends with it.
        }
    }
}
