package org.keepstore.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One keepstore process of a small test cluster: started from the jar with the legacy flags
 * ({@link ServerProcess}), one directory volume, permission enforcement, and the signing key and
 * admin token every member shares, on a free port of 127.0.0.1. {@link #close()} stops it.
 */
final class ClusterServer implements AutoCloseable {

    static final String ADMIN_TOKEN = "admin-token-for-tests-0123456789";
    static final byte[] SIGNING_KEY = "signing-key-shared-by-the-test-cluster".getBytes(StandardCharsets.UTF_8);

    private final ServerProcess process;
    private final int port;
    private final Path volume;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    /**
     * Starts a server whose files live under {@code dir} and waits until it answers.
     *
     * @param extraFlags more flags, e.g. {@code -never-delete=false}
     */
    ClusterServer(Path dir, String... extraFlags) throws Exception {
        volume = Files.createDirectories(dir.resolve("volume"));
        Path key = Files.write(dir.resolve("blob-signing.key"), SIGNING_KEY);
        Path token = Files.writeString(dir.resolve("data-manager.token"), ADMIN_TOKEN + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        port = ServerProcess.freePort();
        List<String> flags = new ArrayList<>(List.of(
                "-listen", "127.0.0.1:" + port,
                "-volume", volume.toString(),
                "-blob-signing-key-file", key.toString(),
                "-data-manager-token-file", token.toString(),
                "-enforce-permissions",
                "-max-buffers", "4"));
        flags.addAll(List.of(extraFlags));
        process = ServerProcess.start(dir.resolve("logs"), List.of(), flags);
        try {
            process.awaitHealthy(port);
        } catch (Exception | AssertionError e) {
            process.close();
            throw e;
        }
    }

    String root() {
        return "http://127.0.0.1:" + port;
    }

    /** {@code 127.0.0.1:PORT}, the way keep-balance often names servers in pull lists. */
    String hostPort() {
        return "127.0.0.1:" + port;
    }

    /** Where the directory volume keeps a block: {@code DIR/HHH/HASH}. */
    Path blockFile(String hash) {
        return volume.resolve(hash.substring(0, 3)).resolve(hash);
    }

    /** The server's log so far, one line per element. */
    List<String> logLines() throws IOException {
        return process.stderrText().lines().toList();
    }

    /** Sends an admin request (body may be null); returns the response. */
    HttpResponse<String> admin(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(root() + path))
                .header("Authorization", "Bearer " + ADMIN_TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    JsonNode status() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(root() + "/status.json")).build(),
                HttpResponse.BodyHandlers.ofString());
        return json.readTree(r.body());
    }

    String metrics() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(root() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Waits until the named queue ({@code PullQueue} or {@code TrashQueue}) is empty and idle. */
    void awaitQueueIdle(String queue) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode q = status().get(queue);
            if (q.get("Queued").asInt() == 0 && q.get("InProgress").asInt() == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(queue + " still busy: " + q);
            }
            Thread.sleep(20);
        }
    }

    /** SIGTERM; the server must stop cleanly (exit 0) with its workers. */
    @Override
    public void close() throws InterruptedException {
        try {
            int status = process.terminate();
            if (status != 0) {
                throw new AssertionError("keepstore exited with " + status);
            }
        } finally {
            process.close();
        }
    }
}
