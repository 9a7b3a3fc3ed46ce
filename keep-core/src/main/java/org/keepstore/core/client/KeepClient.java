package org.keepstore.core.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;

/**
 * An HTTP client for keep servers: reads blocks (verifying every byte), writes blocks to as
 * many replicas as asked, and asks whether a server has a block.
 *
 * <p><b>Which server, in which order.</b> For each block the services are sorted the way the
 * Arvados SDKs sort them, so every client (and {@code keep-balance}) agrees where a block
 * should live: by {@code md5hex(HASH + S)} <em>descending</em>, where {@code S} is the last 15
 * characters of the service UUID (the whole UUID if it is not of the usual 27 characters), or
 * the root URL for a service given without a UUID. A client built with
 * {@link Builder#inGivenOrder(boolean) inGivenOrder(true)} skips the sorting and tries the
 * services exactly as listed (a pull list does this).
 *
 * <p><b>Failures.</b> Each request goes through the services in order, in up to
 * {@link Builder#attempts(int) attempts} rounds:
 * <ul>
 *   <li>connection errors, timeouts, 408, 429 and 5xx (except 507) move on to the next service
 *       and leave the service for the next round, which starts after a back-off delay;</li>
 *   <li>404 on a read, 507 on a write, and a response whose body does not match the locator's
 *       hash or size move on to the next service and never ask that service again;</li>
 *   <li>any other status (400, 401, 403, 405, 413, …, and redirects, which are not followed)
 *       describes the request, not the server, so the request fails at once without asking
 *       anyone else; except in {@link Builder#inGivenOrder(boolean) given order}, where each
 *       service is an independent source (a pull list's) and the next one is asked.</li>
 * </ul>
 *
 * <p><b>Timeouts.</b> A request to one service may take at most the {@link
 * Builder#requestTimeout(Duration) request timeout}, body included. A read (GET, HEAD) is also
 * abandoned when nothing arrives for the {@link Builder#stallTimeout(Duration) stall timeout}:
 * neither the response headers nor any part of the body. Both count as a timeout above.
 *
 * <p><b>Verification.</b> {@link #get} returns data only after its MD5 and size matched the
 * locator; a corrupt copy is never returned, and the next service is tried instead.
 *
 * <p>Tokens are sent as {@code Authorization: Bearer TOKEN}. All requests of a client (and of
 * the clients derived from it with {@link #toBuilder()}) share one {@link HttpClient}, so
 * keep-alive connections are reused. Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * KeepClient keep = KeepClient.builder()
 *         .service("http://keep0.example:25107", "zzzzz-bi6l4-000000000000000")
 *         .service("http://keep1.example:25107", "zzzzz-bi6l4-000000000000001")
 *         .token(apiToken)
 *         .build();
 * PutResult stored = keep.put(data, 2);               // two replicas
 * byte[] back = keep.get(stored.locator());           // verified
 * }</pre>
 */
public final class KeepClient {

    /** Waits between retry rounds; replaceable so tests need not wait. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration delay) throws InterruptedException;
    }

    private static final int ERROR_BODY_LIMIT = 512;
    private static final int LOCATOR_BODY_LIMIT = 4096;

    private final List<KeepService> services;
    private final boolean inGivenOrder;
    private final String token;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final Duration stallTimeout;
    private final int attempts;
    private final Duration initialRetryDelay;
    private final Duration maxRetryDelay;
    private final Sleeper sleeper;
    private final HttpClient http;

    private KeepClient(Builder b) {
        this.services = List.copyOf(b.services);
        this.inGivenOrder = b.inGivenOrder;
        this.token = b.token;
        this.connectTimeout = b.connectTimeout;
        this.requestTimeout = b.requestTimeout;
        this.stallTimeout = b.stallTimeout;
        this.attempts = b.attempts;
        this.initialRetryDelay = b.initialRetryDelay;
        this.maxRetryDelay = b.maxRetryDelay;
        this.sleeper = b.sleeper;
        this.http = b.httpClient != null ? b.httpClient
                : HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .connectTimeout(connectTimeout)
                        .build();
    }

    /**
     * A builder with the defaults: 3 attempts, 0.5 s first back-off, 20 s connect, 300 s request
     * and 60 s stall timeouts.
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this client's settings and its {@link HttpClient}, so clients built from
     * it share connections with this one (e.g. to talk to another set of services).
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.services.addAll(services);
        b.inGivenOrder = inGivenOrder;
        b.token = token;
        b.connectTimeout = connectTimeout;
        b.requestTimeout = requestTimeout;
        b.stallTimeout = stallTimeout;
        b.attempts = attempts;
        b.initialRetryDelay = initialRetryDelay;
        b.maxRetryDelay = maxRetryDelay;
        b.sleeper = sleeper;
        b.httpClient = http;
        return b;
    }

    /** The services, as configured. */
    public List<KeepService> services() {
        return services;
    }

    /**
     * The order in which this client tries its services for a block: the configured order when
     * built {@link Builder#inGivenOrder(boolean) inGivenOrder}, else the rendezvous order described
     * on this class.
     */
    public List<KeepService> serviceOrder(String hash) {
        if (!Locator.isHash(hash)) {
            throw new IllegalArgumentException(KeepException.INVALID_LOCATOR);
        }
        if (inGivenOrder) {
            return services;
        }
        List<KeepService> sorted = new ArrayList<>(services);
        sorted.sort(Comparator.comparing((KeepService s) -> md5Hex(hash + s.rendezvousKey())).reversed());
        return sorted;
    }

    /**
     * Reads a block and checks it against the locator before returning it.
     *
     * @param locator as given by a keep server (signature hints are sent along)
     * @return the block's bytes, whose MD5 (and size, when the locator has a size hint) matched
     * @throws KeepClientException when no service returned a good copy ({@link
     *                             KeepClientException#isNotFound()} when all said 404)
     */
    public byte[] get(Locator locator) throws IOException, InterruptedException {
        ByteBuffer block = fetch(locator, null);
        byte[] data = block.array();
        return data.length == block.remaining() ? data : java.util.Arrays.copyOf(data, block.remaining());
    }

    /** {@link #get(Locator)} for a locator string. */
    public byte[] get(String locator) throws IOException, InterruptedException {
        return get(Locator.parse(locator));
    }

    /**
     * Reads a block into the caller's buffer (e.g. a pooled one), checking it against the
     * locator. On failure the buffer's contents are undefined.
     *
     * @param buffer large enough for the block: at least its size hint, or 64 MiB when the
     *               locator has none
     * @return the block's length; {@code buffer[0..length)} holds the verified block
     */
    public int get(Locator locator, byte[] buffer) throws IOException, InterruptedException {
        Objects.requireNonNull(buffer, "buffer");
        return get(locator, ByteBuffer.wrap(buffer));
    }

    /**
     * {@link #get(Locator, byte[])} into a buffer, which may be direct (e.g. a {@link
     * org.keepstore.core.BufferPool} buffer): the block goes to indices {@code [0, length)}; the
     * buffer's position and limit are not used or changed.
     */
    public int get(Locator locator, ByteBuffer buffer) throws IOException, InterruptedException {
        Objects.requireNonNull(buffer, "buffer");
        long needed = locator.hasSize() ? locator.size() : Locator.MAX_BLOCK_SIZE;
        if (buffer.capacity() < needed) {
            throw new IllegalArgumentException("buffer of " + buffer.capacity() + " bytes cannot hold " + needed);
        }
        return fetch(locator, buffer).remaining();
    }

    /**
     * Asks whether a service has the block (HTTP HEAD; the data is not transferred, so it is not
     * verified here — the server verifies it).
     *
     * @return the size the service reported, or the locator's size hint if it sent none
     * @throws KeepClientException when no service has it
     */
    public long head(Locator locator) throws IOException, InterruptedException {
        Failures failures = new Failures(locator, !inGivenOrder);
        long[] size = {-1};
        boolean done = runRounds(serviceOrder(locator.hash()), failures, service -> {
            HttpRequest request = request(service, "/" + locator)
                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .build();
            Exchange<Void> ex = exchange(request, HttpResponse.BodyHandlers.discarding(), null, stallTimeout);
            if (ex.failure != null) {
                return failures.connectionFailed(service, ex.failure);
            }
            if (ex.response.statusCode() != 200) {
                return failures.httpError(service, ex.response.statusCode(), "", true);
            }
            size[0] = ex.response.headers().firstValueAsLong("Content-Length").orElse(locator.size());
            return Verdict.DONE;
        });
        if (!done) {
            throw failures.exception("HEAD " + locator.hashAndSize() + " failed");
        }
        return size[0];
    }

    /** Writes {@code data} to {@code replicas} replicas (see {@link #put(byte[], int, int, int)}). */
    public PutResult put(byte[] data, int replicas) throws IOException, InterruptedException {
        return put(data, 0, data.length, replicas);
    }

    /**
     * Writes a block to services in order until their {@code X-Keep-Replicas-Stored} headers add
     * up to {@code replicas}. Each service is asked at most once successfully; failing services
     * are retried per the rules on this class.
     *
     * @return the (signed, if the service signs) locator and the replicas stored
     * @throws InsufficientReplicasException when some but too few replicas were stored
     * @throws KeepClientException           when no service stored it
     */
    public PutResult put(byte[] data, int offset, int length, int replicas) throws IOException, InterruptedException {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be at least 1");
        }
        if (length > Locator.MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("a block holds at most " + Locator.MAX_BLOCK_SIZE + " bytes");
        }
        Objects.checkFromIndexSize(offset, length, data.length);
        String hash = md5Hex(data, offset, length);
        Locator unsigned = Locator.of(hash, length);
        Failures failures = new Failures(unsigned, !inGivenOrder);
        int[] stored = {0};
        AtomicReference<Locator> returned = new AtomicReference<>();

        boolean done = runRounds(serviceOrder(hash), failures, service -> {
            HttpRequest request = request(service, "/" + hash)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data, offset, length))
                    .header("X-Keep-Desired-Replicas", Integer.toString(replicas - stored[0]))
                    .build();
            Exchange<BoundedBodySubscriber.Body> ex = exchange(request, info ->
                    new BoundedBodySubscriber(ByteBuffer.allocate(LOCATOR_BODY_LIMIT), false, LOCATOR_BODY_LIMIT, false),
                    null, null);
            if (ex.failure != null) {
                return failures.connectionFailed(service, ex.failure);
            }
            int status = ex.response.statusCode();
            String body = text(ex.response.body());
            if (status != 200) {
                return failures.httpError(service, status, body, false);
            }
            Locator answer;
            try {
                answer = Locator.parse(body.trim());
            } catch (KeepException e) {
                return failures.badResponse(service, "unparseable locator in response");
            }
            if (!answer.hash().equals(hash)) {
                return failures.badResponse(service, "response names another block");
            }
            if (answer.hasSize() && answer.size() != length) {
                // No read could ever accept that locator for these bytes.
                return failures.badResponse(service, "response gives size " + answer.size() + ", not " + length);
            }
            returned.compareAndSet(null, answer);
            stored[0] += ex.response.headers().firstValue("X-Keep-Replicas-Stored")
                    .map(KeepClient::parseReplicas).orElse(1);
            return stored[0] >= replicas ? Verdict.DONE : Verdict.NEXT_SERVICE;
        });
        if (done) {
            return new PutResult(returned.get(), stored[0]);
        }
        if (stored[0] > 0) {
            throw new InsufficientReplicasException(new PutResult(returned.get(), stored[0]), replicas,
                    failures.status(), failures.lines);
        }
        throw failures.exception("PUT " + unsigned + " failed");
    }

    // --- reading ---------------------------------------------------------------------------

    /** The verified block, from position 0 to its length, in the caller's buffer or a new heap one. */
    private ByteBuffer fetch(Locator locator, ByteBuffer callerBuffer) throws IOException, InterruptedException {
        Failures failures = new Failures(locator, !inGivenOrder);
        AtomicReference<ByteBuffer> result = new AtomicReference<>();
        boolean done = runRounds(serviceOrder(locator.hash()), failures, service -> {
            AtomicReference<BoundedBodySubscriber> blockBody = new AtomicReference<>();
            HttpRequest request = request(service, "/" + locator).GET().build();
            Exchange<BoundedBodySubscriber.Body> ex = exchange(request, info -> {
                if (info.statusCode() != 200) {
                    return errorBodySubscriber();
                }
                BoundedBodySubscriber s = blockSubscriber(locator, callerBuffer,
                        info.headers().firstValueAsLong("Content-Length").orElse(-1));
                blockBody.set(s);
                return s;
            }, blockBody, stallTimeout);
            if (ex.failure instanceof BoundedBodySubscriber.BodyTooLongException) {
                return failures.badResponse(service, "corrupt copy: longer than " + describeSize(locator));
            }
            if (ex.failure != null) {
                return failures.connectionFailed(service, ex.failure);
            }
            int status = ex.response.statusCode();
            if (status != 200) {
                return failures.httpError(service, status, text(ex.response.body()), true);
            }
            BoundedBodySubscriber.Body body = ex.response.body();
            if (locator.hasSize() && body.length() != locator.size()) {
                return failures.badResponse(service, "corrupt copy: " + body.length() + " bytes, expected " + locator.size());
            }
            ByteBuffer data = body.data();
            if (!md5Hex(data.duplicate()).equals(locator.hash())) {
                return failures.badResponse(service, "corrupt copy: checksum mismatch");
            }
            result.set(data);
            return Verdict.DONE;
        });
        if (!done) {
            throw failures.exception("GET " + locator.hashAndSize() + " failed");
        }
        return result.get();
    }

    private static String describeSize(Locator locator) {
        return locator.hasSize() ? locator.size() + " bytes" : "a block";
    }

    /** A subscriber for a 200 body: exactly the size hint at most, else at most one block. */
    private static BoundedBodySubscriber blockSubscriber(Locator locator, ByteBuffer callerBuffer, long contentLength) {
        int limit = locator.hasSize() ? (int) Math.min(locator.size(), Locator.MAX_BLOCK_SIZE) : Locator.MAX_BLOCK_SIZE;
        if (callerBuffer != null) {
            return new BoundedBodySubscriber(callerBuffer, false, limit, true);
        }
        if (locator.hasSize()) {
            return new BoundedBodySubscriber(ByteBuffer.allocate(limit), false, limit, true);
        }
        // No size hint: trust Content-Length only as a first guess; the limit still holds.
        int initial = contentLength >= 0 && contentLength <= limit ? (int) contentLength : 64 * 1024;
        return new BoundedBodySubscriber(ByteBuffer.allocate(initial), true, limit, true);
    }

    // --- the retry loop -----------------------------------------------------------------------

    /** What one attempt on one service means for the request. */
    enum Verdict {
        /** The request is complete. */
        DONE,
        /** Try the next service; this one may be asked again in the next round. */
        RETRY_LATER,
        /** Try the next service; do not ask this one again. */
        NEXT_SERVICE,
        /** The request itself was refused; stop. */
        GIVE_UP
    }

    @FunctionalInterface
    private interface Attempt {
        Verdict tryService(KeepService service) throws InterruptedException;
    }

    /** Runs attempts over the services in rounds; true when one attempt said DONE. */
    private boolean runRounds(List<KeepService> order, Failures failures, Attempt attempt) throws InterruptedException {
        if (order.isEmpty()) {
            failures.lines.add("no keep services configured");
            return false;
        }
        List<KeepService> toTry = order;
        for (int round = 1; ; round++) {
            List<KeepService> retryLater = new ArrayList<>();
            for (KeepService service : toTry) {
                Verdict verdict = attempt.tryService(service);
                switch (verdict) {
                    case DONE:
                        return true;
                    case GIVE_UP:
                        return false;
                    case RETRY_LATER:
                        retryLater.add(service);
                        break;
                    case NEXT_SERVICE:
                        break;
                    default:
                        throw new IllegalStateException(verdict.name());
                }
            }
            if (retryLater.isEmpty() || round >= attempts) {
                return false;
            }
            sleeper.sleep(retryDelay(round));
            toTry = retryLater;
        }
    }

    /** The pause after round {@code round} failed: doubling from the initial delay, capped. */
    Duration retryDelay(int round) {
        Duration delay = initialRetryDelay;
        for (int i = 1; i < round && delay.compareTo(maxRetryDelay) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(maxRetryDelay) > 0 ? maxRetryDelay : delay;
    }

    /** Collects why attempts failed and classifies them. */
    private static final class Failures {
        final List<String> lines = new ArrayList<>();
        final Locator locator;
        /**
         * Whether a refusal (an error status that retrying cannot change) ends the request. True
         * for services that are one cluster sharing a key, where a refusal says the request
         * itself is wrong; false for a pull list's servers, each an independent source.
         */
        final boolean refusalEndsAll;
        /** The last HTTP error status other than a read's 404; 502 for a corrupt answer. */
        int lastStatus;
        int notFound;
        int answered;
        int refusedStatus;

        Failures(Locator locator, boolean refusalEndsAll) {
            this.locator = locator;
            this.refusalEndsAll = refusalEndsAll;
        }

        Verdict connectionFailed(KeepService service, Throwable failure) {
            answered++;
            String reason = failure instanceof StalledException ? failure.getMessage()
                    : failure instanceof HttpTimeoutException || failure instanceof TimeoutException
                    ? "timed out" : failure instanceof ConnectException ? "connection refused"
                    : failure.getClass().getSimpleName() + (failure.getMessage() == null ? "" : " " + failure.getMessage());
            lines.add(service.root() + ": " + reason);
            return Verdict.RETRY_LATER;
        }

        Verdict httpError(KeepService service, int status, String body, boolean reading) {
            answered++;
            if (!(reading && status == 404)) {
                lastStatus = status;
            }
            String firstLine = body.strip().lines().findFirst().orElse("");
            if (firstLine.length() > 200) {
                firstLine = firstLine.substring(0, 200);
            }
            lines.add(service.root() + ": HTTP " + status + (firstLine.isEmpty() ? "" : " \"" + firstLine + "\""));
            if (status == 408 || status == 429 || (status >= 500 && status != 507)) {
                return Verdict.RETRY_LATER;
            }
            if (reading && status == 404) {
                notFound++;
                return Verdict.NEXT_SERVICE;
            }
            if (!reading && status == 507) {
                return Verdict.NEXT_SERVICE;
            }
            refusedStatus = status;
            return refusalEndsAll ? Verdict.GIVE_UP : Verdict.NEXT_SERVICE;
        }

        Verdict badResponse(KeepService service, String reason) {
            answered++;
            lastStatus = 502; // the server answered, but with data that is not the block
            lines.add(service.root() + ": " + reason);
            return Verdict.NEXT_SERVICE;
        }

        int status() {
            if (refusedStatus != 0) {
                return refusedStatus;
            }
            if (answered > 0 && notFound == answered) {
                return 404;
            }
            // Some said 404 and others could not be asked: whether the block exists is unknown,
            // so this is not a 404 (0 when no other HTTP error was seen).
            return lastStatus;
        }

        KeepClientException exception(String what) {
            return new KeepClientException(what, status(), lines);
        }
    }

    // --- HTTP plumbing -----------------------------------------------------------------------

    private HttpRequest.Builder request(KeepService service, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(service.root() + path)).timeout(requestTimeout);
        if (token != null && !token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /** A response, or why there is none. */
    private record Exchange<T>(HttpResponse<T> response, Throwable failure) {
    }

    /**
     * Sends a request and waits for the whole response, body included, for at most the request
     * timeout. (The JDK client's own timeout covers only the wait for the headers.)
     *
     * @param body  when set, the subscriber collecting a block body; it is told to stop writing
     *              if the exchange is abandoned, so a caller's buffer is never written late
     * @param stall when set, the exchange is also abandoned once nothing (headers or body bytes)
     *              has arrived for this long
     */
    private <T> Exchange<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler,
                                     AtomicReference<BoundedBodySubscriber> body, Duration stall)
            throws InterruptedException {
        long start = System.nanoTime();
        Progress progress = new Progress(start);
        HttpResponse.BodyHandler<T> watched = stall == null ? handler
                : info -> new ProgressSubscriber<>(handler.apply(info), progress);
        CompletableFuture<HttpResponse<T>> future = http.sendAsync(request, watched);
        long requestNanos = saturatedNanos(requestTimeout);
        long stallNanos = stall == null ? Long.MAX_VALUE : saturatedNanos(stall);
        try {
            while (true) {
                long now = System.nanoTime();
                // Differences of nanoTime values, never sums that could overflow.
                long requestLeft = requestNanos - (now - start);
                long wait = Math.min(requestLeft, stallNanos - (now - progress.lastNanos));
                if (wait <= 0) {
                    abandon(future, body);
                    return new Exchange<>(null, requestLeft <= 0 ? new TimeoutException()
                            : new StalledException(stall));
                }
                try {
                    return new Exchange<>(future.get(wait, TimeUnit.NANOSECONDS), null);
                } catch (TimeoutException e) {
                    // Look again: either a deadline passed, or progress moved the stall deadline.
                }
            }
        } catch (InterruptedException e) {
            abandon(future, body);
            throw e;
        } catch (ExecutionException e) {
            return new Exchange<>(null, mostTellingCause(e));
        } catch (CancellationException e) {
            return new Exchange<>(null, e);
        }
    }

    /** A duration in nanoseconds, or Long.MAX_VALUE for one too long to count so (about 292 years). */
    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** When something last arrived for an exchange (its start, the headers, a part of the body). */
    private static final class Progress {
        volatile long lastNanos;

        Progress(long start) {
            lastNanos = start;
        }

        void now() {
            lastNanos = System.nanoTime();
        }
    }

    /** Nothing arrived for the stall timeout. */
    private static final class StalledException extends TimeoutException {
        StalledException(Duration stall) {
            super("stalled: nothing received for " + stall.toMillis() + " ms");
        }
    }

    /** Passes a body through to another subscriber, noting the time of each part that arrives. */
    private static final class ProgressSubscriber<T> implements HttpResponse.BodySubscriber<T> {
        private final HttpResponse.BodySubscriber<T> target;
        private final Progress progress;

        ProgressSubscriber(HttpResponse.BodySubscriber<T> target, Progress progress) {
            this.target = target;
            this.progress = progress;
            progress.now(); // the headers arrived
        }

        @Override
        public CompletionStage<T> getBody() {
            return target.getBody();
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            target.onSubscribe(subscription);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            progress.now();
            target.onNext(item);
        }

        @Override
        public void onError(Throwable throwable) {
            target.onError(throwable);
        }

        @Override
        public void onComplete() {
            target.onComplete();
        }
    }

    /**
     * The JDK client wraps failures in layers; the one that says what happened (a body too long,
     * a timeout, a refused connection) may be several causes deep.
     */
    private static Throwable mostTellingCause(ExecutionException e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof BoundedBodySubscriber.BodyTooLongException || t instanceof HttpTimeoutException
                    || t instanceof ConnectException) {
                return t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return e.getCause() == null ? e : e.getCause();
    }

    private static void abandon(CompletableFuture<?> future, AtomicReference<BoundedBodySubscriber> body) {
        future.cancel(true);
        if (body != null && body.get() != null) {
            body.get().abandon();
        }
    }

    /** Keeps the start of an error response's body for the message; drops the rest. */
    private static BoundedBodySubscriber errorBodySubscriber() {
        return new BoundedBodySubscriber(ByteBuffer.allocate(ERROR_BODY_LIMIT), false, ERROR_BODY_LIMIT, false);
    }

    private static String text(BoundedBodySubscriber.Body body) {
        return StandardCharsets.UTF_8.decode(body.data()).toString();
    }

    private static int parseReplicas(String header) {
        try {
            return Math.max(0, Integer.parseInt(header.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    static String md5Hex(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return md5Hex(bytes, 0, bytes.length);
    }

    static String md5Hex(byte[] data, int offset, int length) {
        return md5Hex(ByteBuffer.wrap(data, offset, length));
    }

    /** MD5 of the buffer's remaining bytes (consumes them). */
    static String md5Hex(ByteBuffer data) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(data);
            return HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JVM", e);
        }
    }

    /** Settings for a {@link KeepClient}. */
    public static final class Builder {
        private final List<KeepService> services = new ArrayList<>();
        private boolean inGivenOrder;
        private String token;
        private Duration connectTimeout = Duration.ofSeconds(20);
        private Duration requestTimeout = Duration.ofSeconds(300);
        private Duration stallTimeout = Duration.ofSeconds(60);
        private int attempts = 3;
        private Duration initialRetryDelay = Duration.ofMillis(500);
        private Duration maxRetryDelay = Duration.ofSeconds(8);
        private Sleeper sleeper = delay -> Thread.sleep(delay.toMillis());
        private HttpClient httpClient;

        private Builder() {
        }

        /** Adds a service known by its root URL only ({@code http://host:port}). */
        public Builder service(String root) {
            services.add(KeepService.of(root));
            return this;
        }

        /** Adds a service with its UUID, which decides its place in the rendezvous order. */
        public Builder service(String root, String uuid) {
            services.add(new KeepService(root, uuid));
            return this;
        }

        /** Replaces the services. */
        public Builder services(List<KeepService> list) {
            services.clear();
            services.addAll(list);
            return this;
        }

        /**
         * True: try services in the order given instead of the rendezvous order, each as an
         * independent source, as a pull list asks: a refusal by one (401, 403, the 400 of a server
         * with another signing key, a redirect) moves on to the next instead of ending the
         * request. Default false.
         */
        public Builder inGivenOrder(boolean given) {
            this.inGivenOrder = given;
            return this;
        }

        /**
         * The API token sent with every request, or null for none.
         *
         * @throws IllegalArgumentException if it holds characters a header cannot carry (a
         *                                  token read from a file with its newline, say)
         */
        public Builder token(String apiToken) {
            if (apiToken != null && !apiToken.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("token must be printable ASCII without spaces"
                        + " (trim what was read from a file)");
            }
            this.token = apiToken;
            return this;
        }

        /** How long to wait for a TCP connection. Applies only to a client built without {@link #httpClient}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** How long one request to one service may take, response body included. */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /**
         * How long a read (GET or HEAD) may wait with nothing arriving, neither the response
         * headers nor any part of the body, before it is abandoned as timed out: a server that
         * accepts the connection and then hangs costs this, not the whole request timeout.
         * Default 60 s. Writes wait for the request timeout only (a server answers a PUT once it
         * has hashed and stored the whole block).
         */
        public Builder stallTimeout(Duration timeout) {
            this.stallTimeout = positive(timeout, "stallTimeout");
            return this;
        }

        /** Rounds over the services before giving up (1 = no retries). Default 3. */
        public Builder attempts(int rounds) {
            if (rounds < 1) {
                throw new IllegalArgumentException("attempts must be at least 1");
            }
            this.attempts = rounds;
            return this;
        }

        /** The pause before the second round, doubling before each later one up to {@code max}. */
        public Builder retryDelay(Duration initial, Duration max) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("need 0 <= initial <= max retry delay");
            }
            this.initialRetryDelay = initial;
            this.maxRetryDelay = max;
            return this;
        }

        /** How to wait between rounds (tests pass one that records instead of sleeping). */
        public Builder sleeper(Sleeper s) {
            this.sleeper = Objects.requireNonNull(s, "sleeper");
            return this;
        }

        /** Uses this HTTP client (and its connection pool) instead of creating one. */
        public Builder httpClient(HttpClient client) {
            this.httpClient = client;
            return this;
        }

        public KeepClient build() {
            return new KeepClient(this);
        }

        /** Longer timeouts mean "none"; the JDK client does not wait correctly beyond a few years. */
        private static final Duration LONGEST_TIMEOUT = Duration.ofDays(365);

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return d.compareTo(LONGEST_TIMEOUT) > 0 ? LONGEST_TIMEOUT : d;
        }
    }
}
