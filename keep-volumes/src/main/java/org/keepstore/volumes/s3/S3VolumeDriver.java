package org.keepstore.volumes.s3;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The {@code S3} volume driver: a bucket of any S3-compatible store (AWS, Ceph RGW, MinIO, …) in
 * the reference keepstore's object layout. Parameters are those of the Arvados cluster config
 * ({@code Bucket}, {@code Endpoint}, {@code Region}, {@code AccessKeyID}, {@code SecretAccessKey},
 * {@code UsePathStyle}, {@code PrefixLength}, {@code RaceWindow}, {@code IndexPageSize},
 * {@code ConnectTimeout}, {@code ReadTimeout}, {@code UnsafeDelete}); see {@link S3Volume}.
 *
 * <p>HTTP goes through the SDK's {@code url-connection-client} (the JDK's HttpURLConnection): no
 * extra jars, no native code, and one blocking request per calling thread, which is how the
 * engine uses a volume anyway.
 */
public final class S3VolumeDriver implements VolumeDriver {
    private static final Logger log = LoggerFactory.getLogger(S3VolumeDriver.class);

    /** Attempts per request, including the first; throttling (503 SlowDown) backs off longer. */
    static final int MAX_ATTEMPTS = 4;

    @Override
    public String name() {
        return S3VolumeConfig.DRIVER;
    }

    @Override
    public Volume create(Map<String, Object> parameters, VolumeContext context) throws IOException {
        S3VolumeConfig config = S3VolumeConfig.parse(parameters);
        log.info("S3 volume {}: {}", config.deviceId(), config);
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .connectionTimeout(config.connectTimeout())
                .socketTimeout(config.readTimeout())
                .build();
        AwsCredentialsProvider credentials = credentials(config);
        S3Client client = client(config, http, credentials);
        return credentials instanceof AutoCloseable closeable
                ? new S3Volume(config, client, context, http, closeable)
                : new S3Volume(config, client, context, http);
    }

    static S3Client client(S3VolumeConfig config, SdkHttpClient http, AwsCredentialsProvider credentials) {
        S3ClientBuilder builder = S3Client.builder()
                .httpClient(http)
                .region(Region.of(config.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(config.usePathStyle())
                // Content-MD5 (the block hash) protects uploads and the engine verifies every
                // read, so skip the SDK's own CRC32 passes over 64 MiB bodies (and the aws-chunked
                // trailer encoding they need, which not every S3-compatible server accepts).
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(MAX_ATTEMPTS)
                        .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(100), Duration.ofSeconds(5)))
                        .throttlingBackoffStrategy(
                                BackoffStrategy.exponentialDelay(Duration.ofSeconds(1), Duration.ofSeconds(20)))
                        // A keepstore serves many clients for days: a burst of errors must not
                        // switch retries off for everyone (the SDK's retry quota would).
                        .circuitBreakerEnabled(false)
                        .build()));
        if (config.endpointUri() != null) {
            builder.endpointOverride(config.endpointUri());
        }
        return builder.build();
    }

    private static AwsCredentialsProvider credentials(S3VolumeConfig config) {
        if (config.accessKeyId() == null) {
            return DefaultCredentialsProvider.builder().build();
        }
        return StaticCredentialsProvider.create(
                AwsBasicCredentials.create(config.accessKeyId(), config.secretAccessKey()));
    }
}
