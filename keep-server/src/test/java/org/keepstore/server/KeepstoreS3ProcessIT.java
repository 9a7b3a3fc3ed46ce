package org.keepstore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol contract against a server process whose only volumes are S3 buckets, mounted
 * with the reference server's legacy {@code -s3-*} flags on the test S3 server. Two buckets,
 * each counting for one replica, so the contract's two-mount expectations hold.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeepstoreS3ProcessIT extends KeepProtocolContract {
    @TempDir
    static Path tmp;

    private S3TestBuckets s3;
    private List<String> buckets;
    private ServerProcess server;
    private TestHttp http;

    @BeforeAll
    void start() throws Exception {
        s3 = S3TestBuckets.fromEnvironment();
        buckets = List.of(s3.newBucket(), s3.newBucket());
        Path key = KeepstoreProcessIT.secretFile(tmp, "key", SIGNING_KEY);
        Path token = KeepstoreProcessIT.secretFile(tmp, "token", ADMIN_TOKEN);
        int port = ServerProcess.freePort();
        List<String> args = new ArrayList<>(List.of("-listen=127.0.0.1:" + port, "-enforce-permissions=true",
                "-blob-signing-key-file=" + key, "-data-manager-token-file=" + token, "-never-delete=false",
                "-trash-lifetime=1h", "-max-buffers=8"));
        args.addAll(s3.flags(tmp, buckets, "-s3-replication=1"));
        server = ServerProcess.start(tmp, List.of(), args);
        http = server.awaitHealthy(port);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    @Override
    TestHttp http() {
        return http;
    }

    @Override
    Duration mtimeStep() {
        return Duration.ofMillis(1100); // LastModified has one-second granularity
    }

    @Override
    int corruptStoredCopies(String hash, byte[] corrupted) throws Exception {
        int n = 0;
        for (String bucket : buckets) {
            if (s3.exists(bucket, hash)) {
                s3.put(bucket, hash, corrupted);
                n++;
            }
        }
        return n;
    }
}
