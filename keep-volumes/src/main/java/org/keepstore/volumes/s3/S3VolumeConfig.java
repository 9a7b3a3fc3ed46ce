package org.keepstore.volumes.s3;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.keepstore.core.DriverParameters;

/**
 * The parsed {@code DriverParameters} of one S3 volume (SPEC §8 names). {@link #toString()}
 * never shows the secret key.
 *
 * @param bucket          bucket name
 * @param endpoint        S3 endpoint as configured (URL or {@code host[:port]}), or null for AWS
 *                        (then {@code region} picks it)
 * @param region          signing region
 * @param accessKeyId     static access key, or null to use the SDK's default credential chain
 * @param secretAccessKey static secret key, or null (with {@code accessKeyId})
 * @param usePathStyle    address the bucket as {@code ENDPOINT/BUCKET/KEY} instead of
 *                        {@code BUCKET.ENDPOINT/KEY} (needed by most non-AWS servers)
 * @param prefixLength    N: data objects are stored as {@code HASH[0:N]/HASH} (0 = {@code HASH})
 * @param raceWindow      the longest time a write to the bucket may take to become visible to
 *                        every reader (eventual consistency margin of the reference design)
 * @param indexPageSize   keys per ListObjectsV2 page
 * @param connectTimeout  TCP connect timeout of every request
 * @param readTimeout     socket read timeout of every request
 * @param unsafeDelete    with trash lifetime 0, delete blocks at once instead of refusing
 */
record S3VolumeConfig(String bucket, String endpoint, String region, String accessKeyId, String secretAccessKey,
                      boolean usePathStyle, int prefixLength, Duration raceWindow, int indexPageSize,
                      Duration connectTimeout, Duration readTimeout, boolean unsafeDelete) {

    static final String DRIVER = "S3";
    static final String DEFAULT_REGION_WITH_ENDPOINT = "us-east-1";

    /** Parses and validates the parameters; errors name the parameter, never a secret value. */
    static S3VolumeConfig parse(Map<String, Object> values) {
        DriverParameters p = new DriverParameters(DRIVER, values);
        String bucket = p.requiredString("Bucket");
        String endpoint = p.has("Endpoint") ? p.string("Endpoint", null).trim() : null;
        if (endpoint != null) {
            endpointUri(endpoint);
        }
        String region = p.string("Region", null);
        if (region == null) {
            if (endpoint == null) {
                throw new IllegalArgumentException(DRIVER + " volume: DriverParameters.Region or Endpoint is required");
            }
            region = DEFAULT_REGION_WITH_ENDPOINT;
        }
        String accessKey = p.has("AccessKeyID") ? p.string("AccessKeyID", null) : null;
        String secretKey = p.has("SecretAccessKey") ? p.string("SecretAccessKey", null) : null;
        if ((accessKey == null) != (secretKey == null)) {
            throw new IllegalArgumentException(DRIVER
                    + " volume: DriverParameters.AccessKeyID and SecretAccessKey must be given together (or neither,"
                    + " to use the default credential chain)");
        }
        long prefixLength = p.number("PrefixLength", 0);
        if (prefixLength < 0 || prefixLength > 30) {
            throw new IllegalArgumentException(DRIVER + " volume: DriverParameters.PrefixLength must be between 0 and 30");
        }
        Duration raceWindow = p.duration("RaceWindow", Duration.ofHours(24));
        if (raceWindow.isNegative()) {
            throw new IllegalArgumentException(DRIVER + " volume: DriverParameters.RaceWindow must not be negative");
        }
        long pageSize = p.number("IndexPageSize", 1000);
        if (pageSize < 1 || pageSize > 1000) {
            throw new IllegalArgumentException(DRIVER + " volume: DriverParameters.IndexPageSize must be between 1 and 1000");
        }
        Duration connectTimeout = positiveOrDefault(p, "ConnectTimeout", Duration.ofMinutes(1));
        Duration readTimeout = positiveOrDefault(p, "ReadTimeout", Duration.ofMinutes(10));
        return new S3VolumeConfig(bucket, endpoint, region, accessKey, secretKey, p.bool("UsePathStyle", false),
                (int) prefixLength, raceWindow, (int) pageSize, connectTimeout, readTimeout,
                p.bool("UnsafeDelete", false));
    }

    /** Zero means "the default", as in the reference server: a request must never wait forever. */
    private static Duration positiveOrDefault(DriverParameters p, String name, Duration defaultValue) {
        Duration d = p.duration(name, defaultValue);
        if (d.isNegative()) {
            throw new IllegalArgumentException(DRIVER + " volume: DriverParameters." + name + " must not be negative");
        }
        return d.isZero() ? defaultValue : d;
    }

    /** The endpoint as a URL for the client, or null for AWS. */
    URI endpointUri() {
        return endpoint == null ? null : endpointUri(endpoint);
    }

    /** Accepts {@code host[:port]} as well as a URL; a bare host means HTTPS. */
    private static URI endpointUri(String endpoint) {
        String e = endpoint;
        if (!e.contains("://")) {
            e = "https://" + e;
        }
        URI uri;
        try {
            uri = URI.create(e);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(DRIVER + " volume: DriverParameters.Endpoint is not a valid URL");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException(DRIVER + " volume: DriverParameters.Endpoint must be an http or https URL");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException(DRIVER
                    + " volume: DriverParameters.Endpoint must not contain credentials; use AccessKeyID/SecretAccessKey");
        }
        return uri;
    }

    /**
     * The device id the reference keepstore reports for this bucket, {@code s3://ENDPOINT/BUCKET},
     * so keep-balance sees one device when our servers and reference servers share a bucket. It
     * uses the endpoint exactly as configured, as the reference does.
     */
    String deviceId() {
        return "s3://" + (endpoint == null ? "" : endpoint) + "/" + bucket;
    }

    @Override
    public String toString() {
        return "S3VolumeConfig[bucket=" + bucket + ", endpoint=" + endpoint + ", region=" + region
                + ", credentials=" + (accessKeyId == null ? "default chain" : "static") + ", usePathStyle="
                + usePathStyle + ", prefixLength=" + prefixLength + ", raceWindow=" + raceWindow
                + ", indexPageSize=" + indexPageSize + ", connectTimeout=" + connectTimeout + ", readTimeout="
                + readTimeout + ", unsafeDelete=" + unsafeDelete + "]";
    }
}
