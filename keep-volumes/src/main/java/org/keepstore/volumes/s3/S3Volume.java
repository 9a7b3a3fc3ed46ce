package org.keepstore.volumes.s3;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.IndexSink;
import org.keepstore.core.KeepException;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.core.VolumeStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A volume in an S3 bucket, in the object layout of the reference keepstore, so a bucket written
 * by either server is served as-is by the other:
 *
 * <ul>
 *   <li>{@code KEY} — the block data, where {@code KEY} is {@code HASH}, or
 *       {@code HASH[0:N]/HASH} with {@code PrefixLength} N;</li>
 *   <li>{@code recent/KEY} — an empty marker whose LastModified is the block's mtime, rewritten
 *       on every write and touch (S3 cannot change an object's LastModified in place);</li>
 *   <li>{@code trash/KEY} — a trashed block: a server-side copy of {@code KEY} whose
 *       LastModified is the trash time; the block is deleted for good once it is older than the
 *       trash lifetime. We also record the trash time by our clock in the copy's metadata
 *       ({@value #TRASHED_AT}) and count the deadline from it, so every decision about "now"
 *       uses the injected clock; trash without it (the reference's) counts from LastModified.
 *       Untrash copies it back and then deletes it.</li>
 * </ul>
 *
 * <p><b>Races.</b> Trash is copy-then-delete, and writes are data-then-marker, so a write or touch
 * may interleave with a trash of the same block and leave {@code recent/KEY} newer than (or
 * nearly as new as) {@code trash/KEY} while {@code KEY} is gone. Every reader of the layout
 * checks for that: a block whose marker says it was written or touched less than the signature
 * TTL before it was trashed cannot have been garbage, so reads, touches and empty-trash "fix the
 * race" by copying {@code trash/KEY} back. {@code RaceWindow} is how long a write may take to be
 * visible everywhere; trash refuses to overwrite a {@code trash/KEY} that empty-trash might
 * delete within that window, and empty-trash refreshes markers that are too old to keep
 * protecting a block it just rescued.
 *
 * <p>Times: mtimes are the S3 server's LastModified values of the markers (whole seconds, as
 * the reference reports them); race checks compare server timestamps with each other; "now"
 * for age checks and deadlines comes from the context clock.
 *
 * <p>Writes are one PutObject streamed from the caller's buffer, with the block hash as
 * Content-MD5 so the server verifies the bytes against their name for free; S3 never shows a
 * partial object. If the content does not match its name (which the engine never asks for),
 * the server refuses it and the volume resends it with its real MD5.
 *
 * <p>Errors: a missing object is {@link BlockNotFoundException}; an unreachable or failing
 * endpoint (connection refused, timeouts, 5xx after the SDK's retries) is a 503
 * {@link KeepException} so the engine moves on to other volumes; other S3 errors (e.g. 403) are
 * plain {@link IOException}s. Trashing with a zero trash lifetime is refused with 405 unless
 * {@code UnsafeDelete} is set, because S3 offers no way to keep a deleted block recoverable.
 */
final class S3Volume implements Volume {
    private static final Logger log = LoggerFactory.getLogger(S3Volume.class);

    static final String RECENT = "recent/";
    static final String TRASH = "trash/";
    /** How far a copy's LastModified may lag the server's Date before we distrust the copy. */
    static final Duration MAX_COPY_CLOCK_SKEW = Duration.ofMinutes(10);
    /**
     * User metadata on {@code trash/KEY}: when it was trashed, by the context clock (ISO-8601).
     * Deadlines count from it; trash written by the reference server has none and counts from
     * its LastModified, as the reference does.
     */
    static final String TRASHED_AT = "keepstore-trashed-at";
    /** Trashed objects examined at once by {@link #emptyTrash()}. */
    static final int EMPTY_TRASH_CONCURRENCY = 4;

    private static final Pattern HASH = Pattern.compile("[0-9a-f]{32}");

    private final S3VolumeConfig config;
    private final S3Client s3;
    private final Clock clock;
    private final Duration trashLifetime;
    private final Duration blobSignatureTtl;
    private final VolumeMetrics metrics;
    private final String deviceId;
    private final ExecutorService executor;
    private final AutoCloseable[] resources;

    /**
     * @param resources closed with the volume after the client (its HTTP client and credential
     *                  provider, which the SDK leaves to their creator)
     */
    S3Volume(S3VolumeConfig config, S3Client s3, VolumeContext context, AutoCloseable... resources) {
        this.config = config;
        this.s3 = s3;
        this.resources = resources;
        this.clock = context.clock();
        this.trashLifetime = context.trashLifetime();
        this.blobSignatureTtl = context.blobSignatureTtl();
        this.metrics = context.metrics();
        this.deviceId = config.deviceId();
        this.executor = Executors.newCachedThreadPool(daemonThreads("s3-" + config.bucket()));
    }

    // ---- layout -------------------------------------------------------------------------------

    /** The data object's key: {@code HASH}, or {@code HASH[0:N]/HASH}. */
    String key(String hash) {
        int n = config.prefixLength();
        return n > 0 ? hash.substring(0, n) + "/" + hash : hash;
    }

    /** The hash stored under a data key of this volume's layout, or null for any other key. */
    String hashOfKey(String key) {
        int n = config.prefixLength();
        String hash;
        if (n == 0) {
            hash = key;
        } else {
            if (key.length() != n + 33 || key.charAt(n) != '/' || !key.regionMatches(0, key, n + 1, n)) {
                return null;
            }
            hash = key.substring(n + 1);
        }
        return HASH.matcher(hash).matches() ? hash : null;
    }

    /** The list prefix under which every data key for hashes starting with {@code prefix} lies. */
    private String listPrefix(String prefix) {
        int n = config.prefixLength();
        return n > 0 && prefix.length() >= n ? prefix.substring(0, n) + "/" + prefix : prefix;
    }

    // ---- Volume -------------------------------------------------------------------------------

    @Override
    public String deviceId() {
        return deviceId;
    }

    @Override
    public StoredBlock open(String hash) throws IOException {
        String key = key(hash);
        ResponseInputStream<GetObjectResponse> in = getOrNull(key);
        if (in == null) {
            // A trash racing with a write may have moved the data to trash/ just after the
            // writer (or toucher) refreshed recent/; such a block is not garbage: put it back.
            if (headOrNull(RECENT + key) == null || !fixRace(key)) {
                throw new BlockNotFoundException(hash);
            }
            in = getOrNull(key);
            if (in == null) {
                throw new BlockNotFoundException(hash);
            }
        }
        Long length = in.response().contentLength();
        return new StoredBlock(length == null ? -1 : length, new CountingStream(in, length == null ? -1 : length));
    }

    @Override
    public void write(String hash, ByteBuffer data) throws IOException {
        String key = key(hash);
        ByteBuffer view = data.slice();
        long length = view.remaining();
        RequestBody body = RequestBody.fromContentProvider(() -> new ByteBufferInputStream(view), length,
                "application/octet-stream");
        try {
            // The hash is the block's MD5, so the server checks the bytes it received against
            // the name they are stored under, at no cost to us.
            put(key, body, contentMd5(hash));
        } catch (BadDigestException e) {
            // The bytes do not hash to their name: either they were damaged on the way, or the
            // caller stores other content under this name (the engine never does; the SPI
            // allows it). Send them again with their own digest, so what is stored is exactly
            // what is in the buffer.
            log.warn("{}: {} rejected as not matching its hash; storing it with its own MD5", deviceId, hash);
            put(key, body, contentMd5(md5Of(view)));
        }
        metrics.ioBytes(deviceId, VolumeMetrics.WRITTEN, length);
        putMarker(key);
    }

    @Override
    public void touch(String hash) throws IOException {
        String key = key(hash);
        if (headOrNull(key) == null && !fixRace(key)) {
            throw new BlockNotFoundException(hash);
        }
        putMarker(key);
    }

    @Override
    public long mtimeNanos(String hash) throws IOException {
        String key = key(hash);
        if (headOrNull(key) == null) {
            throw new BlockNotFoundException(hash);
        }
        return toNanos(markerTime(key));
    }

    /**
     * The LastModified of {@code recent/KEY}, creating the marker (mtime = now) for a data object
     * that has none, as the reference does for blocks written before markers existed.
     */
    private Instant markerTime(String key) throws IOException {
        HeadObjectResponse recent = headOrNull(RECENT + key);
        if (recent == null) {
            log.info("{}: {} has no {} marker; creating it", deviceId, key, RECENT);
            putMarker(key);
            recent = headOrNull(RECENT + key);
            if (recent == null) {
                throw new IOException(deviceId + ": " + RECENT + key + " missing right after it was written");
            }
        }
        return recent.lastModified();
    }

    @Override
    public void trash(String hash) throws IOException {
        String key = key(hash);
        Instant mtime = Instant.ofEpochSecond(0, mtimeNanos(hash));
        if (!blobSignatureTtl.isZero() && mtime.plus(blobSignatureTtl).isAfter(clock.instant())) {
            // A client may still hold a valid signature for this block: leave it (SPEC §6).
            log.debug("{}: not trashing {}: mtime {} is younger than the signature TTL", deviceId, hash, mtime);
            return;
        }
        if (trashLifetime.isZero()) {
            if (!config.unsafeDelete()) {
                // 500 as the reference answers, not 405: a DELETE may have trashed the block on
                // other mounts by now, and 405 would say that nothing was done.
                throw new KeepException(500, "trash is disabled on " + deviceId
                        + ": trash lifetime is 0 and UnsafeDelete is false, and S3 cannot undo a delete");
            }
            delete(key);
            delete(RECENT + key);
            return;
        }
        checkRaceWindow(key);
        if (!copyIfExists(key, TRASH + key, Map.of(TRASHED_AT, clock.instant().toString()))) {
            throw new BlockNotFoundException(hash);
        }
        delete(key);
    }

    /** When a trashed object was trashed: its {@link #TRASHED_AT} metadata, else its LastModified. */
    static Instant trashedAt(HeadObjectResponse trash) {
        String recorded = trash.metadata().get(TRASHED_AT);
        if (recorded != null) {
            try {
                return Instant.parse(recorded);
            } catch (DateTimeParseException e) {
                // not ours after all; fall back to the server's time
            }
        }
        return trash.lastModified();
    }

    /**
     * Refuses to trash when {@code trash/KEY} exists and empty-trash may delete it before a new
     * copy would be visible to it: the new copy could then be deleted with the old one.
     */
    private void checkRaceWindow(String key) throws IOException {
        HeadObjectResponse trash = headOrNull(TRASH + key);
        if (trash == null) {
            return;
        }
        Instant deletableAt = trashedAt(trash).plus(trashLifetime);
        Instant safeUntil = clock.instant().plus(config.raceWindow());
        if (!deletableAt.isAfter(safeUntil)) {
            throw new IOException(deviceId + ": " + key + " is already in trash and may be deleted within the race"
                    + " window (" + config.raceWindow() + "); not trashing it again now");
        }
    }

    @Override
    public void untrash(String hash) throws IOException {
        String key = key(hash);
        HeadObjectResponse trashed = headOrNull(TRASH + key);
        if (trashed == null || !copyIfExists(TRASH + key, key, Map.of())) {
            throw new BlockNotFoundException(hash);
        }
        putMarker(key);
        // Restored means no longer in trash. Delete the trashed copy only if it is still the
        // one restored: a trash of the block that slipped in meanwhile made a new one, which
        // must live out its own deadline.
        HeadObjectResponse now = headOrNull(TRASH + key);
        if (now != null && sameObject(trashed, now)) {
            delete(TRASH + key);
        }
    }

    private static boolean sameObject(HeadObjectResponse a, HeadObjectResponse b) {
        return java.util.Objects.equals(a.lastModified(), b.lastModified())
                && java.util.Objects.equals(a.eTag(), b.eTag())
                && java.util.Objects.equals(a.metadata().get(TRASHED_AT), b.metadata().get(TRASHED_AT));
    }

    @Override
    public EmptyTrashResult emptyTrash() throws IOException {
        Instant start = clock.instant();
        AtomicLong deletedBlocks = new AtomicLong();
        AtomicLong deletedBytes = new AtomicLong();
        AtomicLong inTrashBlocks = new AtomicLong();
        AtomicLong inTrashBytes = new AtomicLong();
        Semaphore slots = new Semaphore(EMPTY_TRASH_CONCURRENCY);
        List<Future<?>> running = new ArrayList<>();
        ObjectLister trash = new ObjectLister(this::listPage, TRASH, executor);
        IOException listingError = null;
        try {
            for (S3Object o = trash.next(); o != null; o = trash.next()) {
                String key = o.key().substring(TRASH.length());
                if (hashOfKey(key) == null) {
                    continue;
                }
                inTrashBlocks.incrementAndGet();
                inTrashBytes.addAndGet(o.size());
                slots.acquireUninterruptibly();
                S3Object trashed = o;
                running.add(executor.submit(() -> {
                    try {
                        if (emptyOne(key, trashed, start)) {
                            deletedBlocks.incrementAndGet();
                            deletedBytes.addAndGet(trashed.size());
                        }
                    } catch (IOException | RuntimeException e) {
                        log.warn("{}: emptyTrash: {}: {}", deviceId, key, e.toString());
                    } finally {
                        slots.release();
                    }
                }));
                running.removeIf(Future::isDone);
            }
        } catch (IOException e) {
            listingError = e;
        }
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while emptying trash");
            } catch (java.util.concurrent.ExecutionException e) {
                log.warn("{}: emptyTrash task failed: {}", deviceId, e.getCause().toString());
            }
        }
        EmptyTrashResult result = new EmptyTrashResult(deletedBlocks.get(), deletedBytes.get(),
                inTrashBlocks.get() - deletedBlocks.get(), inTrashBytes.get() - deletedBytes.get());
        log.info("{}: emptyTrash: deleted {} blocks ({} bytes); {} blocks ({} bytes) remain in trash", deviceId,
                result.deletedBlocks(), result.deletedBytes(), result.remainingBlocks(), result.remainingBytes());
        if (listingError != null) {
            throw listingError;
        }
        return result;
    }

    /**
     * Deletes one trashed block if its deadline passed and nothing suggests it is still wanted.
     * Returns whether it was deleted.
     */
    private boolean emptyOne(String key, S3Object trashed, Instant now) throws IOException {
        HeadObjectResponse trash = headOrNull(TRASH + key);
        if (trash == null) {
            return false; // restored or deleted since it was listed
        }
        // Races are judged on the server's timestamps alone (both stamped by the same clock);
        // the deadline counts from the recorded trash time.
        Instant trashTime = trash.lastModified();
        Instant deadline = trashedAt(trash).plus(trashLifetime);
        HeadObjectResponse recent = headOrNull(RECENT + key);
        if (recent == null) {
            // Every block has a marker before it can be trashed; without one we cannot tell
            // whether it was wanted, so keep it.
            log.warn("{}: emptyTrash: {}{} has no {} marker; restoring it", deviceId, TRASH, key, RECENT);
            untrash(hashOfKey(key));
            return false;
        }
        Instant recentTime = recent.lastModified();
        if (Duration.between(recentTime, trashTime).compareTo(blobSignatureTtl) < 0) {
            // Written or touched less than a TTL before it was trashed (or after): a race.
            if (Duration.between(recentTime, now).compareTo(blobSignatureTtl.minus(config.raceWindow())) >= 0) {
                // The marker is about to stop protecting the block from another trash during
                // the race window; restore the block and refresh the marker.
                log.info("{}: emptyTrash: old race for {}; restoring and touching", deviceId, key);
                fixRace(key);
                putMarker(key);
                return false;
            }
            if (headOrNull(key) == null) {
                log.info("{}: emptyTrash: recent race for {}; restoring", deviceId, key);
                fixRace(key);
                return false;
            }
            // The block was written again after it was trashed: the data object is live and
            // the trashed copy is a spare, deleted below once its deadline passes.
        }
        if (now.isBefore(deadline)) {
            return false;
        }
        delete(TRASH + key);
        if (headOrNull(TRASH + key) != null) {
            log.warn("{}: emptyTrash: {}{} still visible right after deleting it", deviceId, TRASH, key);
            return true;
        }
        // Drop the marker only if the block is gone; a re-written or restored block keeps it.
        if (headOrNull(key) == null) {
            delete(RECENT + key);
        }
        return true;
    }

    /**
     * Recovers a block that a trash moved away while a write or touch was refreshing its marker:
     * if {@code trash/KEY} was made less than a signature TTL after {@code recent/KEY}, copies it
     * back to {@code KEY}. Returns whether it did.
     */
    private boolean fixRace(String key) throws IOException {
        HeadObjectResponse trash = headOrNull(TRASH + key);
        if (trash == null) {
            return false;
        }
        HeadObjectResponse recent = headOrNull(RECENT + key);
        if (recent == null) {
            return false;
        }
        Duration ageWhenTrashed = Duration.between(recent.lastModified(), trash.lastModified());
        if (ageWhenTrashed.compareTo(blobSignatureTtl) >= 0) {
            return false; // It was old enough to be garbage when trashed: no race.
        }
        log.info("{}: {} was trashed at {} but written or touched at {}; restoring it", deviceId, key,
                trash.lastModified(), recent.lastModified());
        return copyIfExists(TRASH + key, key, Map.of());
    }

    @Override
    public void index(String prefix, IndexSink sink) throws IOException {
        String listPrefix = listPrefix(prefix);
        ObjectLister data = new ObjectLister(this::listPage, listPrefix, executor);
        ObjectLister markers = new ObjectLister(this::listPage, RECENT + listPrefix, executor);
        S3Object marker = markers.next();
        for (S3Object o = data.next(); o != null; o = data.next()) {
            if (o.key().compareTo("g") >= 0) {
                break; // recent/ and trash/ sort after every hex key; nothing more to see.
            }
            String hash = hashOfKey(o.key());
            if (hash == null || !hash.startsWith(prefix)) {
                continue;
            }
            // Both listings are in key order: advance the markers to this key.
            while (marker != null && marker.key().substring(RECENT.length()).compareTo(o.key()) < 0) {
                marker = markers.next();
            }
            Instant mtime = o.lastModified();
            if (marker != null && marker.key().substring(RECENT.length()).equals(o.key())) {
                mtime = marker.lastModified();
                marker = markers.next();
            }
            sink.accept(hash, o.size(), toNanos(mtime));
        }
    }

    @Override
    public VolumeStatus status() {
        // A bucket has no meaningful capacity; like the reference, never report it as full.
        return new VolumeStatus("s3-bucket:" + config.bucket(), deviceId, -1, -1);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        s3.close();
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                log.debug("{}: closing {}: {}", deviceId, r.getClass().getSimpleName(), e.toString());
            }
        }
    }

    @Override
    public String toString() {
        return "S3Volume[" + deviceId + "]";
    }

    // ---- S3 requests --------------------------------------------------------------------------

    private ResponseInputStream<GetObjectResponse> getOrNull(String key) throws IOException {
        metrics.operation(deviceId, "get");
        try {
            return s3.getObject(b -> b.bucket(config.bucket()).key(key));
        } catch (SdkException e) {
            if (isNotFound(e)) {
                return null;
            }
            throw translate("GET", key, e);
        }
    }

    private HeadObjectResponse headOrNull(String key) throws IOException {
        metrics.operation(deviceId, "head");
        try {
            return s3.headObject(b -> b.bucket(config.bucket()).key(key));
        } catch (SdkException e) {
            if (isNotFound(e)) {
                return null;
            }
            throw translate("HEAD", key, e);
        }
    }

    /**
     * The slowest upload a PUT attempt is given time for. The HTTP client's read timeout covers
     * waiting for an answer but not sending: without a limit, a PUT to an endpoint that stops
     * taking data (a frozen server, a black-holed route) would wait forever, holding its buffer
     * and request slot. Any working link is far faster than this. Not final for tests only.
     */
    static long putMinBytesPerSecond = 1 << 20;

    /** How long one PUT attempt of {@code bodyBytes} may take: ReadTimeout plus the body at {@link #putMinBytesPerSecond}. */
    static Duration putAttemptLimit(Duration readTimeout, long bodyBytes) {
        long uploadMillis = Math.max(0, bodyBytes) * 1000 / putMinBytesPerSecond;
        return readTimeout.plusMillis(uploadMillis);
    }

    private void put(String key, RequestBody body, String contentMd5) throws IOException {
        metrics.operation(deviceId, "put");
        Duration attemptLimit = putAttemptLimit(config.readTimeout(), body.optionalContentLength().orElse(0L));
        try {
            s3.putObject(b -> b.bucket(config.bucket()).key(key).contentMD5(contentMd5)
                    .overrideConfiguration(o -> o.apiCallAttemptTimeout(attemptLimit)), body);
        } catch (S3Exception e) {
            if (e.statusCode() == 400 && e.awsErrorDetails() != null
                    && "BadDigest".equals(e.awsErrorDetails().errorCode())) {
                throw new BadDigestException(deviceId + ": PUT " + key + ": content does not match Content-MD5", e);
            }
            throw translate("PUT", key, e);
        } catch (SdkException e) {
            throw translate("PUT", key, e);
        }
    }

    /** The server received bytes whose MD5 is not the Content-MD5 sent. */
    static final class BadDigestException extends IOException {
        BadDigestException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Writes {@code recent/KEY}, setting the block's mtime to the server's now. */
    private void putMarker(String key) throws IOException {
        put(RECENT + key, RequestBody.empty(), null);
    }

    private void delete(String key) throws IOException {
        metrics.operation(deviceId, "delete");
        try {
            s3.deleteObject(b -> b.bucket(config.bucket()).key(key));
        } catch (SdkException e) {
            if (!isNotFound(e)) {
                throw translate("DELETE", key, e);
            }
        }
    }

    /**
     * Server-side copy, checked: S3 may report a failed copy inside a 200 response, and a copy
     * whose LastModified is not fresh would break the timestamp logic of the trash design.
     * The copy gets exactly {@code metadata} as its user metadata. Returns false if {@code from}
     * does not exist.
     */
    private boolean copyIfExists(String from, String to, Map<String, String> metadata) throws IOException {
        metrics.operation(deviceId, "copy");
        CopyObjectResponse response;
        try {
            response = s3.copyObject(b -> b.sourceBucket(config.bucket()).sourceKey(from)
                    .destinationBucket(config.bucket()).destinationKey(to)
                    .metadataDirective(MetadataDirective.REPLACE).contentType("application/octet-stream")
                    .metadata(metadata));
        } catch (SdkException e) {
            if (isNotFound(e)) {
                return false;
            }
            throw translate("COPY", from + " to " + to, e);
        }
        Instant copied = response.copyObjectResult() == null ? null : response.copyObjectResult().lastModified();
        if (copied == null) {
            throw new IOException(deviceId + ": copy of " + from + " to " + to + " returned no timestamp");
        }
        Instant serverNow = response.sdkHttpResponse().firstMatchingHeader("Date").map(S3Volume::parseHttpDate)
                .orElse(null);
        if (serverNow != null && Duration.between(copied, serverNow).compareTo(MAX_COPY_CLOCK_SKEW) > 0) {
            throw new IOException(deviceId + ": copy of " + from + " to " + to + " returned an old timestamp "
                    + copied + " (server time " + serverNow + ")");
        }
        return true;
    }

    private ListObjectsV2Response listPage(String prefix, String continuationToken) throws IOException {
        metrics.operation(deviceId, "list");
        try {
            return s3.listObjectsV2(b -> b.bucket(config.bucket()).prefix(prefix).maxKeys(config.indexPageSize())
                    .continuationToken(continuationToken));
        } catch (SdkException e) {
            throw translate("LIST", prefix, e);
        }
    }

    /**
     * A missing object. A missing bucket is not "block not found" everywhere: it is a
     * misconfiguration to report (GET and LIST say which; a HEAD response has no body to tell).
     */
    private static boolean isNotFound(SdkException e) {
        return e instanceof S3Exception s3e && s3e.statusCode() == 404
                && (s3e.awsErrorDetails() == null || !"NoSuchBucket".equals(s3e.awsErrorDetails().errorCode()));
    }

    /**
     * Maps an SDK failure to the engine's error family: unreachable, slow or failing servers are
     * 503 "volume unavailable" (the engine then tries other volumes), the rest 500.
     */
    private IOException translate(String operation, String key, SdkException e) {
        String what = deviceId + ": " + operation + " " + key;
        if (e instanceof S3Exception s3e) {
            String code = s3e.awsErrorDetails() == null ? "" : " " + s3e.awsErrorDetails().errorCode();
            metrics.error(deviceId, "s3 " + s3e.statusCode() + code);
            if (s3e.statusCode() >= 500) {
                log.warn("{}: server error {}{}", what, s3e.statusCode(), code);
                return KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, e);
            }
            return new IOException(what + ": " + s3e.statusCode() + code, e);
        }
        if (e instanceof SdkClientException) {
            // Connection refused or reset, timeouts, unknown host: the endpoint cannot serve now.
            metrics.error(deviceId, "unavailable");
            log.warn("{}: {}", what, e.getMessage());
            return KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, e);
        }
        metrics.error(deviceId, e.getClass().getSimpleName());
        return new IOException(what + ": " + e.getMessage(), e);
    }

    // ---- helpers ------------------------------------------------------------------------------

    static String md5Of(ByteBuffer data) {
        try {
            java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
            md5.update(data.duplicate());
            return HexFormat.of().formatHex(md5.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String contentMd5(String hash) {
        return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hash));
    }

    /**
     * Whole seconds, as the reference reports them: S3 keeps at most milliseconds and HEAD
     * answers in seconds, so index and mtime agree exactly (trash lists compare them).
     */
    static long toNanos(Instant t) {
        return TimeUnit.SECONDS.toNanos(t.getEpochSecond());
    }

    private static Instant parseHttpDate(String value) {
        try {
            return ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * The GET response body: counts bytes read for the metrics, reports read failures as
     * "volume unavailable", and on an early close aborts the connection instead of draining up
     * to 64 MiB the caller no longer wants.
     */
    private final class CountingStream extends FilterInputStream {
        private final ResponseInputStream<GetObjectResponse> response;
        /** The response's Content-Length, or -1 if it had none. */
        private final long expected;
        private long received;
        private boolean eof;

        CountingStream(ResponseInputStream<GetObjectResponse> response, long expected) {
            super(response);
            this.response = response;
            this.expected = expected;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = super.read(b, off, len);
            } catch (KeepException e) {
                throw e;
            } catch (IOException | SdkClientException e) {
                metrics.error(deviceId, "unavailable");
                throw KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, e);
            }
            if (n < 0) {
                eof = true;
                if (expected >= 0 && received < expected) {
                    // The connection ended before the body did: a failed read, not a corrupt
                    // block (the stored object may be intact).
                    metrics.error(deviceId, "unavailable");
                    throw KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, new EOFException(
                            deviceId + ": GET ended after " + received + " of " + expected + " bytes"));
                }
            } else {
                received += n;
                metrics.ioBytes(deviceId, VolumeMetrics.READ, n);
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            if (!eof) {
                response.abort();
            }
            super.close();
        }
    }
}
