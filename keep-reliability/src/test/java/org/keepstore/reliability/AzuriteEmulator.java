package org.keepstore.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.StorageSharedKeyCredential;
import org.junit.jupiter.api.Assumptions;
import org.keepstore.server.ServerProcess;

/**
 * A private Azurite (Azure Blob emulator) for outage tests: installed by
 * {@code scripts/backends/azurite.sh install} (shared with scripts/test.sh), but run by the test
 * itself on a fixed port with its data on disk, so it can be killed, frozen and brought back at
 * the same address with the same blobs.
 */
final class AzuriteEmulator extends Emulator {
    static final String ACCOUNT = "devstoreaccount1";
    /** The emulator's published development key (accepted only by the emulator). */
    static final String KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private final Path bin;
    private final Path location;

    private AzuriteEmulator(Path bin, Path location, int port) {
        super("azurite", location, port, 600);
        this.bin = bin;
        this.location = location;
    }

    /** Installs Azurite if needed (npm) and starts it; skips the test where that is impossible. */
    static AzuriteEmulator start(Path location) throws Exception {
        Path root = Path.of(System.getProperty("keepstore.projectRoot", "..")).toAbsolutePath().normalize();
        Path state = root.resolve("target/test-backends");
        Path script = root.resolve("scripts/backends/azurite.sh");
        Path bin = state.resolve("azurite/node_modules/.bin/azurite-blob");
        if (!Files.isExecutable(bin) && Files.isExecutable(script)) {
            Process install = new ProcessBuilder(script.toString(), "install", state.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            install.waitFor(10, TimeUnit.MINUTES);
        }
        Assumptions.assumeTrue(Files.isExecutable(bin), "Azurite is not installed and could not be installed "
                + "(scripts/backends/azurite.sh install needs npm): skipping the Azure outage test");
        AzuriteEmulator emulator = new AzuriteEmulator(bin,
                Files.createDirectories(location), ServerProcess.freePort());
        emulator.launch();
        return emulator;
    }

    String endpoint() {
        return "http://127.0.0.1:" + port + "/" + ACCOUNT;
    }

    @Override
    public String driver() {
        return "Azure";
    }

    @Override
    public String driverParameters(String container, int timeoutSeconds) {
        return "          StorageAccountName: " + ACCOUNT + "\n"
                + "          StorageAccountKey: \"" + KEY + "\"\n"
                + "          Endpoint: " + endpoint() + "\n"
                + "          ContainerName: " + container + "\n"
                + "          RequestTimeout: " + timeoutSeconds + "s\n"
                + "          ListBlobsRetryDelay: 1s\n"
                + "          ListBlobsMaxAttempts: 2\n";
    }

    @Override
    public void createContainer(String name) {
        BlobServiceClient service = new BlobServiceClientBuilder().endpoint(endpoint())
                .credential(new StorageSharedKeyCredential(ACCOUNT, KEY))
                .httpClient(new JdkHttpClientBuilder(java.net.http.HttpClient.newBuilder()
                        .version(java.net.http.HttpClient.Version.HTTP_1_1)).build())
                .buildClient();
        service.createBlobContainer(name);
    }

    @Override
    List<String> command() {
        return List.of(bin.toString(), "--blobHost", "127.0.0.1", "--blobPort", Integer.toString(port),
                "--location", location.toString(), "--disableTelemetry", "--skipApiVersionCheck");
    }

    @Override
    String probeUrl() {
        return endpoint() + "?comp=list";
    }
}
