package org.keepstore.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.StorageSharedKeyCredential;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The Azurite instance {@code scripts/backends/azurite.sh} started, from the
 * {@code KEEPSTORE_TEST_AZURE_*} environment variables; without them tests are skipped, or fail
 * when {@code CI=true}. Creates containers for a test and deletes them again.
 */
final class TestAzurite implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    final String endpoint;
    final String account;
    final String key;
    private final BlobServiceClient service;
    private final List<String> created = new ArrayList<>();

    private TestAzurite(String endpoint, String account, String key) {
        this.endpoint = endpoint;
        this.account = account;
        this.key = key;
        this.service = new BlobServiceClientBuilder()
                .endpoint(endpoint)
                .credential(new StorageSharedKeyCredential(account, key))
                .httpClient(new JdkHttpClientBuilder(java.net.http.HttpClient.newBuilder()
                        .version(java.net.http.HttpClient.Version.HTTP_1_1)).build())
                .buildClient();
    }

    static TestAzurite fromEnvironment() {
        String endpoint = System.getenv("KEEPSTORE_TEST_AZURE_ENDPOINT");
        String account = System.getenv("KEEPSTORE_TEST_AZURE_ACCOUNT");
        String key = System.getenv("KEEPSTORE_TEST_AZURE_KEY");
        if (endpoint == null || account == null || key == null) {
            String message = "Azure server tests need Azurite: run scripts/test.sh, or start it with "
                    + "scripts/backends/azurite.sh install|start DIR and export the KEEPSTORE_TEST_AZURE_* lines";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        return new TestAzurite(endpoint, account, key);
    }

    String newContainer() {
        String name = "server-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 1_000_000_000L + "-"
                + SEQUENCE.incrementAndGet();
        service.createBlobContainer(name);
        created.add(name);
        return name;
    }

    BlobContainerClient container(String name) {
        return service.getBlobContainerClient(name);
    }

    /** The legacy flags that make every container flag after them an Azure volume on this emulator. */
    List<String> accountFlags(java.nio.file.Path keyFile) {
        return List.of("-azure-endpoint=" + endpoint, "-azure-storage-account-name=" + account,
                "-azure-storage-account-key-file=" + keyFile);
    }

    /** Replaces the blob {@code hash} in each of {@code containerNames} that has it; returns how many. */
    int replaceCopies(List<String> containerNames, String hash, byte[] data) {
        int n = 0;
        for (String c : containerNames) {
            BlobClient blob = container(c).getBlobClient(hash);
            if (blob.exists()) {
                blob.upload(BinaryData.fromBytes(data), true);
                n++;
            }
        }
        return n;
    }

    @Override
    public void close() {
        for (String name : created) {
            try {
                service.getBlobContainerClient(name).deleteIfExists();
            } catch (RuntimeException e) {
                // Best effort: the emulator keeps everything in memory and is stopped after the run.
            }
        }
        created.clear();
    }
}
