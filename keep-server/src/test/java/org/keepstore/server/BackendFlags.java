package org.keepstore.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.keepstore.volumes.azure.Azurite;
import org.keepstore.volumes.s3.S3TestServer;

/** The reference server's legacy flags that mount volumes on the S3 and Azure test emulators. */
final class BackendFlags {
    private BackendFlags() {
    }

    /**
     * The flags that make every {@code -azure-storage-container-volume} after them an Azure volume
     * on {@code azurite}; the account key goes into a file in {@code dir}.
     */
    static List<String> azureAccount(Azurite azurite, Path dir) throws Exception {
        Path keyFile = KeepstoreProcessIT.secretFile(dir, "azure-key", azurite.key);
        return List.of("-azure-endpoint=" + azurite.endpoint, "-azure-storage-account-name=" + azurite.account,
                "-azure-storage-account-key-file=" + keyFile);
    }

    /**
     * The flags that mount {@code buckets} of {@code s3} with its endpoint and keys (written to
     * files in {@code dir}), with {@code extra} S3 flags before the bucket flags.
     */
    static List<String> s3Buckets(S3TestServer s3, Path dir, List<String> buckets, String... extra) throws Exception {
        Path access = KeepstoreProcessIT.secretFile(dir, "s3-access-key", s3.accessKey);
        Path secret = KeepstoreProcessIT.secretFile(dir, "s3-secret-key", s3.secretKey);
        List<String> flags = new ArrayList<>(List.of("-s3-endpoint=" + s3.endpoint, "-s3-use-path-style",
                "-s3-access-key-file=" + access, "-s3-secret-key-file=" + secret));
        flags.addAll(List.of(extra));
        for (String bucket : buckets) {
            flags.add("-s3-bucket-volume=" + bucket);
        }
        return flags;
    }
}
