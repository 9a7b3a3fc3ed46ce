package org.keepstore.volumes.azure;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

import com.azure.storage.blob.BlobUrlParts;
import org.keepstore.core.DriverParameters;
import org.keepstore.core.Locator;

/**
 * The parsed {@code DriverParameters} of one Azure volume. Names and defaults follow the
 * reference keepstore's Azure driver; {@code Endpoint} and {@code MaxGetBytes} are ours.
 *
 * <p>{@link #toString()} leaves out the account key, so an instance can be logged.
 */
final class AzureVolumeSettings {
    static final String DRIVER = "Azure";
    static final String DEFAULT_BASE_URL = "core.windows.net";
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(10);
    static final Duration DEFAULT_LIST_BLOBS_RETRY_DELAY = Duration.ofSeconds(10);
    static final int DEFAULT_LIST_BLOBS_MAX_ATTEMPTS = 12;
    static final Duration DEFAULT_WRITE_RACE_INTERVAL = Duration.ofSeconds(15);
    static final Duration DEFAULT_WRITE_RACE_POLL_TIME = Duration.ofSeconds(1);

    final String accountName;
    final String accountKey;
    /** The DNS suffix of the blob service (reference meaning), e.g. {@code core.windows.net}. */
    final String storageBaseUrl;
    /** The blob service URL every request goes to, without a trailing slash. */
    final String serviceUrl;
    /** True when {@link #serviceUrl} came from the {@code Endpoint} parameter. */
    final boolean explicitEndpoint;
    final String containerName;
    final Duration requestTimeout;
    final Duration listBlobsRetryDelay;
    final int listBlobsMaxAttempts;
    final Duration writeRaceInterval;
    final Duration writeRacePollTime;
    /** Reads of blobs larger than this are split into ranged GETs, made one after another. */
    final int maxGetBytes;

    private AzureVolumeSettings(DriverParameters p) {
        containerName = p.requiredString("ContainerName");
        accountKey = p.requiredString("StorageAccountKey");

        String base = p.string("StorageBaseURL", DEFAULT_BASE_URL).trim();
        String scheme = "https";
        // The reference takes a bare DNS suffix; accept a URL too, as operators sometimes write one.
        int schemeEnd = base.indexOf("://");
        if (schemeEnd > 0) {
            scheme = base.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
            base = base.substring(schemeEnd + 3);
        }
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        if (base.isEmpty()) {
            throw invalid("StorageBaseURL", "must be a DNS suffix such as " + DEFAULT_BASE_URL);
        }
        storageBaseUrl = base;

        if (p.has("Endpoint")) {
            String endpoint = p.requiredString("Endpoint").trim();
            while (endpoint.endsWith("/")) {
                endpoint = endpoint.substring(0, endpoint.length() - 1);
            }
            try {
                URI uri = new URI(endpoint);
                if (uri.getScheme() == null || uri.getHost() == null
                        || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
                    throw invalid("Endpoint", "must be an http(s) URL of the blob service");
                }
            } catch (URISyntaxException e) {
                throw invalid("Endpoint", "is not a valid URL");
            }
            serviceUrl = endpoint;
            explicitEndpoint = true;
            String name = p.string("StorageAccountName", "");
            if (name.isEmpty()) {
                // Emulators put the account in the path, Azure in the host name; the SDK knows both.
                name = accountFromUrl(endpoint);
            }
            accountName = name;
        } else {
            accountName = p.requiredString("StorageAccountName");
            serviceUrl = scheme + "://" + accountName + ".blob." + storageBaseUrl;
            explicitEndpoint = false;
        }
        if (accountName == null || accountName.isEmpty()) {
            throw invalid("StorageAccountName", "is required (it cannot be derived from Endpoint)");
        }

        requestTimeout = positiveOr(p.duration("RequestTimeout", Duration.ZERO), DEFAULT_REQUEST_TIMEOUT);
        listBlobsRetryDelay = positiveOr(p.duration("ListBlobsRetryDelay", Duration.ZERO),
                DEFAULT_LIST_BLOBS_RETRY_DELAY);
        long attempts = p.number("ListBlobsMaxAttempts", 0);
        if (attempts < 0) {
            throw invalid("ListBlobsMaxAttempts", "must not be negative");
        }
        listBlobsMaxAttempts = attempts == 0 ? DEFAULT_LIST_BLOBS_MAX_ATTEMPTS : (int) Math.min(attempts, 1000);
        writeRaceInterval = p.duration("WriteRaceInterval", DEFAULT_WRITE_RACE_INTERVAL);
        writeRacePollTime = positiveOr(p.duration("WriteRacePollTime", DEFAULT_WRITE_RACE_POLL_TIME),
                DEFAULT_WRITE_RACE_POLL_TIME);
        if (writeRaceInterval.isNegative()) {
            throw invalid("WriteRaceInterval", "must not be negative");
        }
        long maxGet = p.number("MaxGetBytes", 0);
        if (maxGet < 0) {
            throw invalid("MaxGetBytes", "must not be negative");
        }
        // As in the reference: 0 or anything at least a whole block means "one GET per block".
        maxGetBytes = maxGet == 0 || maxGet >= Locator.MAX_BLOCK_SIZE ? Locator.MAX_BLOCK_SIZE : (int) maxGet;
    }

    static AzureVolumeSettings parse(Map<String, Object> parameters) {
        return new AzureVolumeSettings(new DriverParameters(DRIVER, parameters));
    }

    /** Whether reads of {@code size} bytes are split into several ranged GETs. */
    boolean splitsReadOf(long size) {
        return size > maxGetBytes;
    }

    /**
     * The reference server's device id, {@code azure://BASEURL/ACCOUNT/CONTAINER}, so that
     * keep-balance sees our mount and a reference server's mount of the same container as one
     * device. With an explicit endpoint: {@code azure://HOST[:PORT][/PATH]/CONTAINER}.
     */
    String deviceId() {
        if (explicitEndpoint) {
            String hostAndPath = serviceUrl.substring(serviceUrl.indexOf("://") + 3);
            String accountHost = accountName + ".blob.";
            if (hostAndPath.startsWith(accountHost) && hostAndPath.indexOf('/') < 0
                    && hostAndPath.indexOf(':') < 0) {
                // An endpoint in Azure's own form (e.g. a sovereign cloud's): the same storage
                // a reference server reaches with StorageBaseURL = the rest of the host name.
                return "azure://" + hostAndPath.substring(accountHost.length()) + "/" + accountName + "/"
                        + containerName;
            }
            return "azure://" + hostAndPath + "/" + containerName;
        }
        return "azure://" + storageBaseUrl + "/" + accountName + "/" + containerName;
    }

    private static String accountFromUrl(String url) {
        try {
            return BlobUrlParts.parse(url).getAccountName();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Duration positiveOr(Duration d, Duration fallback) {
        if (d.isNegative()) {
            throw new IllegalArgumentException(DRIVER + " volume: durations must not be negative");
        }
        return d.isZero() ? fallback : d;
    }

    private static IllegalArgumentException invalid(String name, String problem) {
        return new IllegalArgumentException(DRIVER + " volume: DriverParameters." + name + " " + problem);
    }

    @Override
    public String toString() {
        return "AzureVolumeSettings{serviceUrl=" + serviceUrl + ", account=" + accountName
                + ", container=" + containerName + ", requestTimeout=" + requestTimeout
                + ", listBlobsRetryDelay=" + listBlobsRetryDelay + ", listBlobsMaxAttempts=" + listBlobsMaxAttempts
                + ", writeRaceInterval=" + writeRaceInterval + ", writeRacePollTime=" + writeRacePollTime
                + ", maxGetBytes=" + maxGetBytes + "}";
    }
}
