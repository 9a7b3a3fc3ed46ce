package org.keepstore.volumes.azure;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.regex.Pattern;

import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.rest.PagedResponse;
import com.azure.core.util.BinaryData;
import com.azure.core.util.Context;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobListDetails;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.options.BlockBlobSimpleUploadOptions;
import com.azure.storage.common.StorageSharedKeyCredential;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.IndexSink;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.core.VolumeStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume in an Azure Blob Storage container, in the reference keepstore's layout, so that a
 * container written by the reference server is read as-is and vice versa:
 * <ul>
 * <li>each block is a block blob named by its hash; its mtime is the blob's {@code Last-Modified}
 * (one-second precision, stamped by the service's clock);</li>
 * <li>touch rewrites the blob's metadata (a {@code touch} entry), which moves {@code Last-Modified};</li>
 * <li>trash sets the metadata entry {@code expires_at} to the Unix time after which
 * {@link #emptyTrash()} may delete the blob; a trashed blob is invisible to every other
 * operation; untrash removes the entry;</li>
 * <li>a zero-length blob younger than {@code WriteRaceInterval} may be another writer's blob
 * whose data is not committed yet (older SDKs created blobs that way), so readers poll it for a
 * while and the index leaves it out.</li>
 * </ul>
 * Changes that depend on what was just read (touch, trash, untrash, emptying trash) are made with
 * an {@code If-Match} ETag condition, so a concurrent write is never undone or deleted.
 *
 * <p>Every request is bounded by {@code RequestTimeout}. A service that cannot be reached, times
 * out or says it is busy yields a {@link KeepException} with status 503 so the engine tries other
 * volumes. The account key is only handed to the SDK's request signer and never logged.
 */
public final class AzureVolume implements Volume {
    private static final Logger log = LoggerFactory.getLogger(AzureVolume.class);

    static final String EXPIRES_AT = "expires_at";
    static final String TOUCH = "touch";

    private static final Pattern BLOCK_NAME = Pattern.compile("[0-9a-f]{32}");
    private static final HttpHeaderName X_MS_VERSION = HttpHeaderName.fromString("x-ms-version");
    private static final HttpHeaderName X_MS_RANGE = HttpHeaderName.fromString("x-ms-range");
    private static final HttpHeaderName X_MS_ERROR_CODE = HttpHeaderName.fromString("x-ms-error-code");
    private static final HttpHeaderName META_EXPIRES_AT = HttpHeaderName.fromString("x-ms-meta-" + EXPIRES_AT);
    private static final HttpHeaderName BLOB_CONTENT_MD5 = HttpHeaderName.fromString("x-ms-blob-content-md5");
    /** How often a metadata update retries when the blob changes between reading and writing it. */
    private static final int METADATA_ATTEMPTS = 3;
    static final int DEFAULT_LIST_PAGE_SIZE = 5000;

    private final AzureVolumeSettings settings;
    private final Clock clock;
    private final Duration trashLifetime;
    private final VolumeMetrics metrics;
    private final String deviceId;
    private final BlobContainerClient container;
    private final HttpPipeline pipeline;
    private final String serviceVersion;
    private final int listPageSize;

    AzureVolume(AzureVolumeSettings settings, VolumeContext context, int listPageSize) {
        this.settings = settings;
        this.clock = context.clock();
        this.trashLifetime = context.trashLifetime();
        this.metrics = context.metrics();
        this.deviceId = settings.deviceId();
        this.listPageSize = listPageSize;

        Duration timeout = settings.requestTimeout;
        // HTTP/1.1: Azure Storage does not speak HTTP/2, and plain-http emulators would otherwise
        // be offered an h2c upgrade on every new connection.
        HttpClient http = new JdkHttpClientBuilder(java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1))
                .connectionTimeout(timeout)
                .responseTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                .build();
        // One try per request, like the reference: the engine fails over to another volume
        // instead, and a slow retry loop would outlast RequestTimeout.
        RequestRetryOptions oneTry = new RequestRetryOptions(RetryPolicyType.FIXED, 1, timeout, null, null, null);
        this.container = new BlobServiceClientBuilder()
                .endpoint(settings.serviceUrl)
                .credential(new StorageSharedKeyCredential(settings.accountName, settings.accountKey))
                .httpClient(http)
                .retryOptions(oneTry)
                .buildClient()
                .getBlobContainerClient(settings.containerName);
        this.pipeline = container.getHttpPipeline();
        this.serviceVersion = container.getServiceVersion().getVersion();
    }

    /**
     * Checks that the container exists. A container that is missing or refuses our credentials
     * is a configuration error; a service that cannot be reached right now is not (the volume
     * answers 503 until it comes back), so that one unreachable volume does not stop a server.
     */
    void checkContainer() throws IOException {
        metrics.operation(deviceId, "exists");
        boolean exists;
        try {
            exists = container.existsWithResponse(settings.requestTimeout, Context.NONE).getValue();
        } catch (RuntimeException e) {
            metrics.error(deviceId, AzureErrors.errorType(e));
            if (AzureErrors.isUnavailable(e)) {
                log.warn("Azure volume {}: cannot reach the service to check the container ({}); "
                        + "requests will fail with 503 until it answers", deviceId, AzureErrors.describe(e));
                return;
            }
            throw new IOException("Azure volume " + deviceId + ": cannot access container "
                    + settings.containerName + ": " + AzureErrors.describe(e), e);
        }
        if (!exists) {
            throw new IllegalArgumentException("Azure volume " + deviceId + ": container "
                    + settings.containerName + " does not exist");
        }
    }

    @Override
    public String deviceId() {
        return deviceId;
    }

    @Override
    public String toString() {
        return "azure-storage-container:\"" + settings.containerName + "\"";
    }

    // ---- reading ----

    /**
     * Reads the blob; if it is unexpectedly empty and young, it may be another writer's blob
     * that has no data yet, so poll it until it has some or is older than the write-race interval.
     * The number of polls is bounded too, in case the clock stands still.
     */
    @Override
    public StoredBlock open(String hash) throws IOException {
        Download download = download(hash);
        if (download.size > 0 || hash.equals(Locator.EMPTY_BLOCK_HASH)) {
            return download.toStoredBlock();
        }
        Instant deadline = download.lastModified.plus(settings.writeRaceInterval);
        if (!clock.instant().isBefore(deadline)) {
            return download.toStoredBlock();
        }
        long maxPolls = Math.max(1, settings.writeRaceInterval.toNanos() / settings.writeRacePollTime.toNanos() + 1);
        log.info("Azure volume {}: block {} is 0 bytes and younger than {}; polling until {} in case a write is "
                + "in progress", deviceId, hash, settings.writeRaceInterval, deadline);
        for (long poll = 0; poll < maxPolls && clock.instant().isBefore(deadline); poll++) {
            download.close();
            sleep(settings.writeRacePollTime);
            download = download(hash);
            if (download.size > 0) {
                break;
            }
        }
        log.info("Azure volume {}: block {} write race ended with {} bytes", deviceId, hash, download.size);
        return download.toStoredBlock();
    }

    /** One read of the blob: a single streaming GET, or ranged GETs one after another for large blobs. */
    private Download download(String hash) throws IOException {
        boolean mayNeedPieces = settings.maxGetBytes < Locator.MAX_BLOCK_SIZE;
        BlobResponse first;
        if (mayNeedPieces) {
            metrics.operation(deviceId, "get_range");
            first = get(hash, 0, settings.maxGetBytes - 1L, true);
            if (first == null) {
                // 416: a zero-length blob has no byte 0 to start a range at.
                metrics.operation(deviceId, "get");
                first = get(hash, -1, -1, false);
            }
        } else {
            metrics.operation(deviceId, "get");
            first = get(hash, -1, -1, false);
        }
        if (first.trashed) {
            first.close();
            throw new BlockNotFoundException(hash);
        }
        if (first.totalSize > Locator.MAX_BLOCK_SIZE) {
            first.close();
            throw new IOException("block " + hash + " on " + deviceId + " has invalid size " + first.totalSize);
        }
        return new Download(first.totalSize, first.lastModified, new BlobStream(hash, first));
    }

    /**
     * A blob's bytes, from the first GET's body and, for a blob larger than {@code MaxGetBytes},
     * from further ranged GETs made one after another: the next piece is requested when the
     * reader has taken the current one. The bytes go straight into the reader's buffer (the
     * engine's pool buffer), so however many such reads run at once, they use no memory beyond
     * the pool's.
     *
     * <p>A touch, trash or untrash changes the blob's metadata, and so its ETag, but not its
     * bytes: it must not fail the reads going on, so later pieces are not requested with
     * {@code If-Match} on the first one's ETag. What each piece is checked against instead is
     * the content itself: the blob's size and its content MD5, which the service keeps for
     * blobs stored in one request (as every writer of blocks does) and sends with every GET.
     * A blob replaced by other content meanwhile fails the read rather than being stitched from
     * two versions. (A blob without a stored MD5 is checked by size only; the engine's MD5 of
     * the whole read still catches a mix.) A blob deleted meanwhile ends the read as absent. A
     * response that ends before its Content-Length is a read error (503), not a short blob.
     */
    private final class BlobStream extends InputStream {
        private final String hash;
        private final long total;
        /** The blob's content MD5 as the first piece's response gave it, or null. */
        private final String contentMd5;
        /** The piece being read and its body; null between pieces. */
        private BlobResponse piece;
        private InputStream body;
        /** Bytes of {@link #piece} not read yet. */
        private long leftInPiece;
        /** Where the next piece starts in the blob. */
        private long nextStart;
        private boolean closed;

        BlobStream(String hash, BlobResponse first) {
            this.hash = hash;
            this.contentMd5 = first.contentMd5;
            this.total = first.totalSize;
            this.piece = first;
            this.body = first.body();
            this.leftInPiece = first.length;
            this.nextStart = first.length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("stream closed");
            }
            if (len == 0) {
                return 0;
            }
            while (leftInPiece == 0) {
                closePiece();
                if (nextStart >= total) {
                    return -1;
                }
                long end = Math.min(total, nextStart + settings.maxGetBytes) - 1;
                metrics.operation(deviceId, "get_range");
                piece = get(hash, nextStart, end, false);
                if (piece.totalSize != total || (contentMd5 != null && !contentMd5.equals(piece.contentMd5))) {
                    closePiece();
                    throw new IOException("block " + hash + " on " + deviceId
                            + " was replaced by other content while it was read");
                }
                body = piece.body();
                leftInPiece = piece.length;
                nextStart = end + 1;
            }
            int n = guarded(() -> body.read(buf, off, (int) Math.min(len, leftInPiece)));
            if (n < 0) {
                // The service ended a response early: a failed read, not a corrupt block.
                metrics.error(deviceId, "unavailable");
                throw KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, new EOFException("block " + hash
                        + " from " + deviceId + ": a GET ended " + leftInPiece + " bytes early"));
            }
            leftInPiece -= n;
            metrics.ioBytes(deviceId, VolumeMetrics.READ, n);
            return n;
        }

        private void closePiece() {
            if (piece != null) {
                piece.close();
                piece = null;
                body = null;
            }
        }

        @Override
        public void close() {
            closed = true;
            closePiece();
        }
    }

    /**
     * Sends one GET of the blob, or of bytes {@code start..end} (inclusive) when {@code start >= 0}.
     * Uses the SDK's signed request pipeline directly because the SDK's download methods either
     * buffer the whole body or push it into an OutputStream, while we hand out a pull stream.
     *
     * @return null on 416 when {@code nullIfRangeUnsatisfiable}
     * @throws BlockNotFoundException on 404
     */
    private BlobResponse get(String hash, long start, long end, boolean nullIfRangeUnsatisfiable)
            throws IOException {
        HttpRequest request = new HttpRequest(HttpMethod.GET, container.getBlobClient(hash).getBlobUrl());
        request.setHeader(X_MS_VERSION, serviceVersion);
        // The shared-key signer signs the literal Content-Length header value ("null" if absent),
        // while the service signs an empty one for a zero length, so state it.
        request.setHeader(HttpHeaderName.CONTENT_LENGTH, "0");
        if (start >= 0) {
            request.setHeader(X_MS_RANGE, "bytes=" + start + "-" + end);
        }
        HttpResponse response;
        try {
            response = pipeline.sendSync(request, Context.NONE);
        } catch (RuntimeException e) {
            throw failure("get", hash, e);
        }
        int status = response.getStatusCode();
        if (status == 200 || status == 206) {
            try {
                return new BlobResponse(response);
            } catch (RuntimeException e) {
                response.close();
                throw new IOException("unexpected response headers for block " + hash + " from " + deviceId, e);
            }
        }
        String errorCode = response.getHeaderValue(X_MS_ERROR_CODE);
        response.close();
        if (status == 404) {
            throw new BlockNotFoundException(hash);
        }
        if (status == 416 && nullIfRangeUnsatisfiable) {
            return null;
        }
        String what = "get " + hash + " on " + deviceId + ": service answered " + status
                + (errorCode == null ? "" : " " + errorCode);
        metrics.error(deviceId, errorCode == null ? Integer.toString(status) : status + " (" + errorCode + ")");
        if (AzureErrors.isUnavailableStatus(status)) {
            log.warn("Azure volume {}: {}", deviceId, what);
            throw KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE + ": " + what, null);
        }
        throw new IOException(what);
    }

    // ---- writing and metadata ----

    @Override
    public void write(String hash, ByteBuffer data) throws IOException {
        int size = data.remaining();
        metrics.operation(deviceId, "create");
        try {
            // One Put Blob request: the service commits it atomically, replacing any existing blob
            // (and its metadata, so rewriting a trashed block brings it back).
            container.getBlobClient(hash).getBlockBlobClient().uploadWithResponse(
                    new BlockBlobSimpleUploadOptions(BinaryData.fromByteBuffer(data.duplicate())),
                    settings.requestTimeout, Context.NONE);
        } catch (RuntimeException e) {
            throw failure("write", hash, e);
        }
        metrics.ioBytes(deviceId, VolumeMetrics.WRITTEN, size);
    }

    @Override
    public void touch(String hash) throws IOException {
        for (int attempt = 0; attempt < METADATA_ATTEMPTS; attempt++) {
            BlobProperties p = properties("touch", hash);
            if (isTrashed(p.getMetadata())) {
                throw new BlockNotFoundException(hash);
            }
            Map<String, String> metadata = withoutTrashMark(p.getMetadata());
            metadata.put(TOUCH, Long.toString(clock.instant().getEpochSecond()));
            if (setMetadataIfUnchanged("touch", hash, metadata, p.getETag())) {
                return;
            }
        }
        throw new IOException("touch " + hash + " on " + deviceId + ": blob kept changing");
    }

    @Override
    public long mtimeNanos(String hash) throws IOException {
        BlobProperties p = properties("mtime", hash);
        if (isTrashed(p.getMetadata())) {
            throw new BlockNotFoundException(hash);
        }
        return toNanos(p.getLastModified());
    }

    @Override
    public void trash(String hash) throws IOException {
        trashIfMtime(hash, mtime -> true);
    }

    /**
     * Decides on the mtime and trashes with one look at the blob: the update is conditional on
     * the ETag of the very properties the decision was made on, so a write or touch in between
     * (by another keepstore sharing the container, say) fails the update and the block stays.
     * Checking the mtime in one request and taking the ETag from a later one would let such a
     * touch slip through, and trash a block just acknowledged to a client.
     */
    @Override
    public boolean trashIfMtime(String hash, LongPredicate mtimeAccepted) throws IOException {
        BlobProperties p = properties("trash", hash);
        if (isTrashed(p.getMetadata())) {
            throw new BlockNotFoundException(hash);
        }
        if (!mtimeAccepted.test(toNanos(p.getLastModified()))) {
            return false;
        }
        boolean done;
        if (trashLifetime.isZero()) {
            done = deleteIfUnchanged("trash", hash, p.getETag());
        } else {
            Map<String, String> metadata = withoutTrashMark(p.getMetadata());
            metadata.put(EXPIRES_AT, Long.toString(clock.instant().plus(trashLifetime).getEpochSecond()));
            done = setMetadataIfUnchanged("trash", hash, metadata, p.getETag());
        }
        if (!done) {
            // Written or touched since we looked: it is fresh again, so it stays.
            log.info("Azure volume {}: block {} changed while being trashed; left in place", deviceId, hash);
        }
        return done;
    }

    @Override
    public void untrash(String hash) throws IOException {
        for (int attempt = 0; attempt < METADATA_ATTEMPTS; attempt++) {
            BlobProperties p = properties("untrash", hash);
            if (!isTrashed(p.getMetadata())) {
                throw new BlockNotFoundException(hash);
            }
            Map<String, String> metadata = withoutTrashMark(p.getMetadata());
            // Setting metadata moves Last-Modified, so the restored block's mtime is now.
            metadata.put(TOUCH, Long.toString(clock.instant().getEpochSecond()));
            if (setMetadataIfUnchanged("untrash", hash, metadata, p.getETag())) {
                return;
            }
        }
        throw new IOException("untrash " + hash + " on " + deviceId + ": blob kept changing");
    }

    private BlobProperties properties(String operation, String hash) throws IOException {
        metrics.operation(deviceId, "get_properties");
        try {
            return container.getBlobClient(hash)
                    .getPropertiesWithResponse(null, settings.requestTimeout, Context.NONE).getValue();
        } catch (RuntimeException e) {
            throw failure(operation, hash, e);
        }
    }

    /** Replaces the blob's metadata unless its ETag changed; false if it did. */
    private boolean setMetadataIfUnchanged(String operation, String hash, Map<String, String> metadata, String etag)
            throws IOException {
        metrics.operation(deviceId, "set_metadata");
        try {
            container.getBlobClient(hash).setMetadataWithResponse(metadata,
                    new BlobRequestConditions().setIfMatch(etag), settings.requestTimeout, Context.NONE);
            return true;
        } catch (RuntimeException e) {
            if (AzureErrors.serviceStatus(e) == 412) {
                return false;
            }
            throw failure(operation, hash, e);
        }
    }

    /** Deletes the blob unless its ETag changed; false if it did. */
    private boolean deleteIfUnchanged(String operation, String hash, String etag) throws IOException {
        metrics.operation(deviceId, "delete");
        try {
            container.getBlobClient(hash).deleteWithResponse(null, new BlobRequestConditions().setIfMatch(etag),
                    settings.requestTimeout, Context.NONE);
            return true;
        } catch (RuntimeException e) {
            if (AzureErrors.serviceStatus(e) == 412) {
                return false;
            }
            throw failure(operation, hash, e);
        }
    }

    // ---- listing ----

    @Override
    public void index(String prefix, IndexSink sink) throws IOException {
        Instant now = clock.instant();
        forEachBlob(prefix, item -> {
            String name = item.getName();
            if (!isBlockName(name) || isTrashed(item.getMetadata())) {
                return;
            }
            long size = item.getProperties().getContentLength();
            OffsetDateTime lastModified = item.getProperties().getLastModified();
            if (size == 0 && !name.equals(Locator.EMPTY_BLOCK_HASH)
                    && lastModified.toInstant().plus(settings.writeRaceInterval).isAfter(now)) {
                // Probably a blob whose data is still being committed (see the class comment).
                return;
            }
            sink.accept(name, size, toNanos(lastModified));
        });
    }

    @Override
    public EmptyTrashResult emptyTrash() throws IOException {
        long nowSeconds = clock.instant().getEpochSecond();
        long[] counts = new long[4]; // deleted blocks, deleted bytes, remaining blocks, remaining bytes
        forEachBlob("", item -> {
            String name = item.getName();
            String expiresAt = expiresAt(item.getMetadata());
            if (!isBlockName(name) || expiresAt == null) {
                return;
            }
            long size = item.getProperties().getContentLength();
            long deadline;
            try {
                deadline = Long.parseLong(expiresAt.trim());
            } catch (NumberFormatException e) {
                log.warn("Azure volume {}: block {} has unreadable {}={}; leaving it", deviceId, name, EXPIRES_AT,
                        expiresAt);
                counts[2]++;
                counts[3] += size;
                return;
            }
            if (deadline > nowSeconds) {
                counts[2]++;
                counts[3] += size;
                return;
            }
            try {
                if (deleteIfUnchanged("empty trash", name, item.getProperties().getETag())) {
                    counts[0]++;
                    counts[1] += size;
                }
                // else: rewritten or untrashed since it was listed, so no longer this trash.
            } catch (BlockNotFoundException gone) {
                // Deleted by someone else meanwhile.
            }
        });
        EmptyTrashResult result = new EmptyTrashResult(counts[0], counts[1], counts[2], counts[3]);
        log.info("Azure volume {}: emptied trash: deleted {} bytes in {} blocks; remaining in trash: {} bytes in "
                + "{} blocks", deviceId, result.deletedBytes(), result.deletedBlocks(), result.remainingBytes(),
                result.remainingBlocks());
        return result;
    }

    private interface BlobVisitor {
        void visit(BlobItem item) throws IOException;
    }

    /** Visits every blob (with its metadata) whose name starts with {@code prefix}, page by page. */
    private void forEachBlob(String prefix, BlobVisitor visitor) throws IOException {
        ListBlobsOptions options = new ListBlobsOptions()
                .setPrefix(prefix.isEmpty() ? null : prefix)
                .setMaxResultsPerPage(listPageSize)
                .setDetails(new BlobListDetails().setRetrieveMetadata(true));
        String continuation = null;
        int page = 0;
        do {
            page++;
            PagedResponse<BlobItem> response = listPage(options, continuation, page);
            if (response == null) {
                return;
            }
            try (response) {
                for (BlobItem item : response.getValue()) {
                    visitor.visit(item);
                }
                continuation = response.getContinuationToken();
            }
        } while (continuation != null && !continuation.isEmpty());
    }

    /**
     * Fetches one page of the listing, retrying up to {@code ListBlobsMaxAttempts} times,
     * {@code ListBlobsRetryDelay} apart, while the service answers that it is busy (503), as
     * the reference does: a full index of a large container takes many pages, and throttling
     * passes. A service that cannot be reached or does not answer in time fails the listing at
     * once (503 to the caller) instead of holding it for every attempt's timeout.
     */
    private PagedResponse<BlobItem> listPage(ListBlobsOptions options, String continuation, int page)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            metrics.operation(deviceId, "list");
            try {
                Iterator<PagedResponse<BlobItem>> pages = container
                        .listBlobs(options, continuation, settings.requestTimeout)
                        .iterableByPage(continuation)
                        .iterator();
                return pages.hasNext() ? pages.next() : null;
            } catch (RuntimeException e) {
                if (AzureErrors.serviceStatus(e) != 503 || attempt >= settings.listBlobsMaxAttempts) {
                    throw failure("list", null, e);
                }
                metrics.error(deviceId, AzureErrors.errorType(e));
                log.warn("Azure volume {}: listing page {} failed ({}); retry {} of {} in {}", deviceId, page,
                        AzureErrors.describe(e), attempt, settings.listBlobsMaxAttempts - 1,
                        settings.listBlobsRetryDelay);
                sleep(settings.listBlobsRetryDelay);
            }
        }
    }

    // ---- status and lifecycle ----

    @Override
    public VolumeStatus status() {
        // Azure does not tell how much a container holds or may hold.
        return new VolumeStatus(toString(), deviceId, -1, -1);
    }

    @Override
    public void close() {
    }

    // ---- helpers ----

    /** Maps an SDK failure to the engine's error family, counting it in the metrics. */
    private IOException failure(String operation, String hash, Throwable e) {
        int status = AzureErrors.serviceStatus(e);
        if (status == 404 && hash != null) {
            return new BlockNotFoundException(hash);
        }
        metrics.error(deviceId, AzureErrors.errorType(e));
        String what = operation + (hash == null ? "" : " " + hash) + " on " + deviceId + ": "
                + AzureErrors.describe(e);
        if (AzureErrors.isUnavailable(e)) {
            log.warn("Azure volume {}: {}", deviceId, what);
            return KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE + ": " + what, e);
        }
        return new IOException(what, e);
    }

    private interface IoCall {
        int call() throws IOException;
    }

    /** The SDK's streams may throw unchecked exceptions; readers of a StoredBlock expect IOException. */
    private int guarded(IoCall call) throws IOException {
        try {
            return call.call();
        } catch (KeepException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // A response body that breaks off or stalls is the service failing to answer, as a
            // refused connection or a timeout before the headers is: 503, so the engine and
            // clients treat it the same way whichever moment it happens at.
            metrics.error(deviceId, "unavailable");
            throw KeepException.unavailable(KeepException.VOLUME_UNAVAILABLE, e);
        }
    }

    static boolean isBlockName(String name) {
        return BLOCK_NAME.matcher(name).matches();
    }

    /** The trash deadline in the metadata, or null if not trashed (absent or empty, as the reference writes it). */
    static String expiresAt(Map<String, String> metadata) {
        if (metadata == null) {
            return null;
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey().equalsIgnoreCase(EXPIRES_AT) && e.getValue() != null && !e.getValue().isEmpty()) {
                return e.getValue();
            }
        }
        return null;
    }

    /**
     * A modifiable copy of the metadata without any {@code expires_at} entry, including the empty
     * one the reference leaves behind when it untrashes.
     */
    static Map<String, String> withoutTrashMark(Map<String, String> metadata) {
        Map<String, String> copy = metadata == null ? new HashMap<>() : new HashMap<>(metadata);
        copy.keySet().removeIf(k -> k.equalsIgnoreCase(EXPIRES_AT));
        return copy;
    }

    static boolean isTrashed(Map<String, String> metadata) {
        return expiresAt(metadata) != null;
    }

    private static long toNanos(OffsetDateTime t) {
        Instant i = t.toInstant();
        return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
    }

    private static void sleep(Duration d) throws InterruptedIOException {
        try {
            Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** What one read produced. */
    private record Download(long size, Instant lastModified, InputStream body) implements AutoCloseable {
        StoredBlock toStoredBlock() {
            return new StoredBlock(size, body);
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }

    /** A successful GET response: headers parsed, body not read yet. */
    private static final class BlobResponse implements AutoCloseable {
        final HttpResponse response;
        /** Bytes in this response's body. */
        final long length;
        /** Size of the whole blob. */
        final long totalSize;
        final Instant lastModified;
        /** The whole blob's content MD5 (base64) if the service keeps one, else null. */
        final String contentMd5;
        final boolean trashed;

        BlobResponse(HttpResponse response) {
            this.response = response;
            this.length = Long.parseLong(response.getHeaderValue(HttpHeaderName.CONTENT_LENGTH).trim());
            String range = response.getHeaderValue(HttpHeaderName.CONTENT_RANGE);
            if (response.getStatusCode() == 206 && range != null && range.contains("/")) {
                // "bytes START-END/TOTAL"
                this.totalSize = Long.parseLong(range.substring(range.lastIndexOf('/') + 1).trim());
            } else {
                this.totalSize = length;
            }
            this.lastModified = parseHttpDate(response.getHeaderValue(HttpHeaderName.LAST_MODIFIED));
            // A ranged GET gives the whole blob's MD5 in its own header; a whole GET in Content-MD5.
            String blobMd5 = response.getHeaderValue(BLOB_CONTENT_MD5);
            this.contentMd5 = blobMd5 != null || response.getStatusCode() != 200
                    ? blobMd5 : response.getHeaderValue(HttpHeaderName.CONTENT_MD5);
            String expires = response.getHeaderValue(META_EXPIRES_AT);
            this.trashed = expires != null && !expires.isEmpty();
        }

        InputStream body() {
            return response.getBodyAsBinaryData().toStream();
        }

        @Override
        public void close() {
            response.close();
        }

        private static Instant parseHttpDate(String value) {
            if (value == null) {
                return Instant.EPOCH;
            }
            try {
                return ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            } catch (DateTimeParseException e) {
                return Instant.EPOCH;
            }
        }
    }
}
