package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3-compatible test server started by {@code scripts/backends/s3proxy.sh} (through
 * {@code scripts/test.sh}), found through {@code KEEPSTORE_TEST_S3_*}; tests using it are
 * skipped without it, and fail on CI. Makes fresh buckets and the legacy flags that mount them.
 */
final class S3TestBuckets implements AutoCloseable {
    final String endpoint;
    private final String accessKey;
    private final String secretKey;
    final S3Client client;
    private final List<String> buckets = new ArrayList<>();

    private S3TestBuckets(String endpoint, String accessKey, String secretKey) {
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.client = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .build();
    }

    static S3TestBuckets fromEnvironment() {
        String endpoint = System.getenv("KEEPSTORE_TEST_S3_ENDPOINT");
        String accessKey = System.getenv("KEEPSTORE_TEST_S3_ACCESS_KEY");
        String secretKey = System.getenv("KEEPSTORE_TEST_S3_SECRET_KEY");
        boolean configured = endpoint != null && accessKey != null && secretKey != null;
        String message = "S3 tests need KEEPSTORE_TEST_S3_ENDPOINT, _ACCESS_KEY and _SECRET_KEY"
                + " (run scripts/test.sh, or export the lines printed by scripts/backends/s3proxy.sh start DIR)";
        if (!configured && "true".equals(System.getenv("CI"))) {
            fail(message);
        }
        assumeTrue(configured, message);
        return new S3TestBuckets(endpoint, accessKey, secretKey);
    }

    String newBucket() {
        String bucket = "keep-it-" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
        client.createBucket(b -> b.bucket(bucket));
        buckets.add(bucket);
        return bucket;
    }

    /** The legacy flags that mount {@code buckets} with this server's endpoint and keys. */
    List<String> flags(Path dir, List<String> buckets, String... extra) throws Exception {
        Path access = KeepstoreProcessIT.secretFile(dir, "s3-access-key", accessKey);
        Path secret = KeepstoreProcessIT.secretFile(dir, "s3-secret-key", secretKey);
        List<String> flags = new ArrayList<>(List.of("-s3-endpoint=" + endpoint, "-s3-use-path-style",
                "-s3-access-key-file=" + access, "-s3-secret-key-file=" + secret));
        flags.addAll(List.of(extra));
        for (String bucket : buckets) {
            flags.add("-s3-bucket-volume=" + bucket);
        }
        return flags;
    }

    void put(String bucket, String key, byte[] data) {
        client.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(data));
    }

    boolean exists(String bucket, String key) {
        try {
            client.headObject(b -> b.bucket(bucket).key(key));
            return true;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        for (String bucket : buckets) {
            try {
                for (S3Object o : client.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
                    client.deleteObject(b -> b.bucket(bucket).key(o.key()));
                }
                client.deleteBucket(b -> b.bucket(bucket));
            } catch (RuntimeException e) {
                // best effort: the test server's directory goes away after the run
            }
        }
        client.close();
    }
}
