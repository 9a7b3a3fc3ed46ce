package org.keepstore.volumes.s3;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3-compatible server the tests run against, as started by {@code scripts/backends/s3proxy.sh}
 * (through {@code scripts/test.sh}): its endpoint and keys come from the environment. Without
 * them the tests are skipped, except on CI, where a missing server is a failure. Published in
 * this module's test-jar, so keep-server's tests use it too.
 */
public final class S3TestServer implements AutoCloseable {
    static final String ENDPOINT_VAR = "KEEPSTORE_TEST_S3_ENDPOINT";
    static final String ACCESS_KEY_VAR = "KEEPSTORE_TEST_S3_ACCESS_KEY";
    static final String SECRET_KEY_VAR = "KEEPSTORE_TEST_S3_SECRET_KEY";

    public final String endpoint;
    public final String accessKey;
    public final String secretKey;
    /** A plain client for preparing and inspecting buckets behind the volume's back. */
    public final S3Client raw;
    /** Buckets made by {@link #newBucket()} and not yet deleted; {@link #close()} deletes them. */
    private final List<String> buckets = new ArrayList<>();

    private S3TestServer(String endpoint, String accessKey, String secretKey) {
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.raw = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .build();
    }

    /** The configured server, or a skipped test (a failed one when {@code CI=true}). */
    public static S3TestServer fromEnvironment() {
        String endpoint = System.getenv(ENDPOINT_VAR);
        String accessKey = System.getenv(ACCESS_KEY_VAR);
        String secretKey = System.getenv(SECRET_KEY_VAR);
        boolean configured = endpoint != null && accessKey != null && secretKey != null;
        String message = "S3 tests need " + ENDPOINT_VAR + ", " + ACCESS_KEY_VAR + " and " + SECRET_KEY_VAR
                + " (run scripts/test.sh, or export the lines printed by scripts/backends/s3proxy.sh start DIR)";
        if (!configured && "true".equals(System.getenv("CI"))) {
            fail(message);
        }
        assumeTrue(configured, message);
        return new S3TestServer(endpoint, accessKey, secretKey);
    }

    /** Creates an empty bucket with a fresh name. */
    public String newBucket() {
        String bucket = "keep-test-" + UUID.randomUUID().toString().replace("-", "").substring(0, 20)
                .toLowerCase(Locale.ROOT);
        raw.createBucket(b -> b.bucket(bucket));
        synchronized (buckets) {
            buckets.add(bucket);
        }
        return bucket;
    }

    /** Driver parameters for a volume on {@code bucket} with the test server's keys. */
    public Map<String, Object> parameters(String bucket) {
        Map<String, Object> p = new HashMap<>();
        p.put("Bucket", bucket);
        p.put("Endpoint", endpoint);
        p.put("AccessKeyID", accessKey);
        p.put("SecretAccessKey", secretKey);
        p.put("UsePathStyle", true);
        p.put("ConnectTimeout", "5s");
        p.put("ReadTimeout", "60s");
        return p;
    }

    public void putObject(String bucket, String key, byte[] content) {
        raw.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(content));
    }

    public boolean exists(String bucket, String key) {
        try {
            raw.headObject(b -> b.bucket(bucket).key(key));
            return true;
        } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return false;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    /** Removes a test bucket and everything in it. */
    public void deleteBucket(String bucket) {
        synchronized (buckets) {
            buckets.remove(bucket);
        }
        try {
            for (S3Object o : raw.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
                raw.deleteObject(b -> b.bucket(bucket).key(o.key()));
            }
            raw.deleteBucket(b -> b.bucket(bucket));
        } catch (RuntimeException e) {
            // Best effort: the server's state directory is thrown away after the run anyway.
        }
    }

    /** Deletes the buckets still left from {@link #newBucket()}, then closes the client. */
    @Override
    public void close() {
        List<String> left;
        synchronized (buckets) {
            left = new ArrayList<>(buckets);
        }
        left.forEach(this::deleteBucket);
        raw.close();
    }
}
