package org.keepstore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.keepstore.volumes.s3.S3TestServer;

/**
 * The protocol contract against a server process whose only volumes are S3 buckets, mounted
 * with the reference server's legacy {@code -s3-*} flags on the test S3 server. Two buckets,
 * each counting for one replica, so the contract's two-mount expectations hold.
 */
class KeepstoreS3ProcessIT extends ServerProcessContract {
    private S3TestServer s3;
    private List<String> buckets;

    @Override
    List<String> serverArgs(Path dir, int port) throws Exception {
        s3 = S3TestServer.fromEnvironment();
        buckets = List.of(s3.newBucket(), s3.newBucket());
        List<String> args = contractLegacyFlags(dir, port, "-trash-lifetime=1h");
        args.addAll(BackendFlags.s3Buckets(s3, dir, buckets, "-s3-replication=1"));
        return args;
    }

    @Override
    void releaseBackend() {
        if (s3 != null) {
            s3.close();
        }
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
                s3.putObject(bucket, hash, corrupted);
                n++;
            }
        }
        return n;
    }
}
