package org.keepstore.volumes.azure;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * The Azurite instance that {@code scripts/backends/azurite.sh} started, found through the
 * {@code KEEPSTORE_TEST_AZURE_*} environment variables. Without them the tests are skipped, or
 * fail when {@code CI=true} (where a skipped backend would hide a broken setup).
 *
 * <p>Hands out fresh containers and deletes them again in {@link #deleteContainers()} (or
 * {@link #close()}). Published in this module's test-jar, so keep-server's tests use it too.
 */
public final class Azurite implements AutoCloseable {
    static final String ENDPOINT_VAR = "KEEPSTORE_TEST_AZURE_ENDPOINT";
    static final String ACCOUNT_VAR = "KEEPSTORE_TEST_AZURE_ACCOUNT";
    static final String KEY_VAR = "KEEPSTORE_TEST_AZURE_KEY";

    private static final AtomicInteger CONTAINER_SEQUENCE = new AtomicInteger();

    public final String endpoint;
    public final String account;
    public final String key;
    private final BlobServiceClient service;
    private final List<String> created = new ArrayList<>();

    private Azurite(String endpoint, String account, String key) {
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

    /** The emulator from the environment, or a skipped (or, on CI, failed) test. */
    public static Azurite fromEnvironment() {
        String endpoint = System.getenv(ENDPOINT_VAR);
        String account = System.getenv(ACCOUNT_VAR);
        String key = System.getenv(KEY_VAR);
        if (endpoint == null || account == null || key == null) {
            String message = "Azure tests need Azurite: run scripts/test.sh, or start it with "
                    + "scripts/backends/azurite.sh install|start DIR and export the " + ENDPOINT_VAR + ", "
                    + ACCOUNT_VAR + " and " + KEY_VAR + " lines it prints";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        return new Azurite(endpoint, account, key);
    }

    /** Creates a new, empty container with a name no other test uses. */
    public String newContainer() {
        String name = "keep-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 1_000_000_000L + "-"
                + CONTAINER_SEQUENCE.incrementAndGet();
        service.createBlobContainer(name);
        synchronized (created) {
            created.add(name);
        }
        return name;
    }

    public BlobContainerClient container(String name) {
        return service.getBlobContainerClient(name);
    }

    /** DriverParameters for a volume on {@code container}, plus {@code extra} (which may override). */
    public Map<String, Object> parameters(String container, Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>();
        p.put("Endpoint", endpoint);
        p.put("StorageAccountName", account);
        p.put("StorageAccountKey", key);
        p.put("ContainerName", container);
        p.put("RequestTimeout", "30s");
        p.putAll(extra);
        return p;
    }

    public Map<String, Object> parameters(String container) {
        return parameters(container, Map.of());
    }

    /** Overwrites the blob {@code name} in each of {@code containerNames} that has it; returns how many. */
    public int replaceCopies(List<String> containerNames, String name, byte[] data) {
        int replaced = 0;
        for (String c : containerNames) {
            BlobClient blob = container(c).getBlobClient(name);
            if (blob.exists()) {
                blob.upload(BinaryData.fromBytes(data), true);
                replaced++;
            }
        }
        return replaced;
    }

    public void deleteContainers() {
        synchronized (created) {
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

    /** Deletes the containers this instance created. */
    @Override
    public void close() {
        deleteContainers();
    }
}
