package org.keepstore.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A keepstore server run as an operator runs it: {@code java -jar keepstore.jar} with legacy
 * flags, one directory volume, a signing key and an admin token, listening on a free port of
 * 127.0.0.1. Its log lines are kept for assertions. {@link #close()} stops it (SIGTERM, then
 * SIGKILL if it does not exit).
 */
final class KeepstoreProcess implements AutoCloseable {

    static final String ADMIN_TOKEN = "admin-token-for-tests-0123456789";
    static final byte[] SIGNING_KEY = "signing-key-shared-by-the-test-cluster".getBytes(StandardCharsets.UTF_8);
    private static final Pattern LISTENING = Pattern.compile("listening on .*\\(port (\\d+)\\)");
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path volume;
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    /**
     * Starts a server whose files live under {@code dir} and waits until it listens.
     *
     * @param extraFlags more flags, e.g. {@code -never-delete=false}
     */
    KeepstoreProcess(Path dir, String... extraFlags) throws IOException, InterruptedException {
        volume = Files.createDirectories(dir.resolve("volume"));
        Path key = Files.write(dir.resolve("blob-signing.key"), SIGNING_KEY);
        Path token = Files.writeString(dir.resolve("data-manager.token"), ADMIN_TOKEN + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        String jar = System.getProperty("keepstore.jar");
        if (jar == null) {
            throw new IllegalStateException("system property keepstore.jar is not set (run through failsafe)");
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", jar,
                "-listen", "127.0.0.1:0",
                "-volume", volume.toString(),
                "-blob-signing-key-file", key.toString(),
                "-data-manager-token-file", token.toString(),
                "-enforce-permissions",
                "-max-buffers", "4"));
        command.addAll(List.of(extraFlags));
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Thread reader = new Thread(this::readLog, "keepstore-log-" + dir.getFileName());
        reader.setDaemon(true);
        reader.start();
        try {
            port.get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            close();
            throw new IllegalStateException("keepstore did not start listening; log:\n" + String.join("\n", log), e);
        }
    }

    private void readLog() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                log.add(line);
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            // The process is gone; its exit is noticed elsewhere.
        } finally {
            port.completeExceptionally(new IOException("keepstore exited before listening"));
        }
    }

    String root() {
        return "http://127.0.0.1:" + port.join();
    }

    /** {@code 127.0.0.1:PORT}, the way keep-balance often names servers in pull lists. */
    String hostPort() {
        return "127.0.0.1:" + port.join();
    }

    Path volumeDir() {
        return volume;
    }

    /** Where the directory volume keeps a block: {@code DIR/HHH/HASH}. */
    Path blockFile(String hash) {
        return volume.resolve(hash.substring(0, 3)).resolve(hash);
    }

    List<String> logLines() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    /** Sends an admin request with a body; returns the response. */
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

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
