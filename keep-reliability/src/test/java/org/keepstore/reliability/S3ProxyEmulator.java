package org.keepstore.reliability;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * A private S3Proxy (S3 API over a local directory) for outage tests: its jar comes from
 * {@code scripts/backends/s3proxy.sh install} (shared with scripts/test.sh); the test runs it on a
 * fixed port with its data on disk, so it can be killed, frozen and brought back unchanged.
 */
final class S3ProxyEmulator implements Emulator {
    private static final String IDENTITY = "outage-test";
    private static final String CREDENTIAL = "outage-test-secret-0123456789";

    private final Path jar;
    private final Path home;
    private final int port;
    private Process process;

    private S3ProxyEmulator(Path jar, Path home, int port) {
        this.jar = jar;
        this.home = home;
        this.port = port;
    }

    /** Skips the test unless this build has the S3 driver and S3Proxy can be installed. */
    static S3ProxyEmulator start(Path home) throws Exception {
        boolean driver;
        try {
            Class.forName("org.keepstore.volumes.s3.S3VolumeDriver");
            driver = true;
        } catch (ClassNotFoundException e) {
            driver = false;
        }
        Assumptions.assumeTrue(driver, "this build has no S3 volume driver yet: skipping the S3 outage test");
        Path root = Path.of(System.getProperty("keepstore.projectRoot", "..")).toAbsolutePath().normalize();
        Path state = root.resolve("target/test-backends");
        Path script = root.resolve("scripts/backends/s3proxy.sh");
        if (findJar(state) == null && Files.isExecutable(script)) {
            Process install = new ProcessBuilder(script.toString(), "install", state.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            install.waitFor(10, TimeUnit.MINUTES);
        }
        Path jar = findJar(state);
        Assumptions.assumeTrue(jar != null, "S3Proxy is not installed and could not be installed "
                + "(scripts/backends/s3proxy.sh install): skipping the S3 outage test");
        S3ProxyEmulator emulator = new S3ProxyEmulator(jar, Files.createDirectories(home), Keepstore.freePort());
        Files.createDirectories(home.resolve("data"));
        Path properties = home.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=" + emulator.endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + IDENTITY,
                "s3proxy.credential=" + CREDENTIAL,
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + home.resolve("data"), ""));
        Files.setPosixFilePermissions(properties, PosixFilePermissions.fromString("rw-------"));
        emulator.launch();
        return emulator;
    }

    private static Path findJar(Path state) throws IOException {
        Path dir = state.resolve("s3proxy");
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("s3proxy-.*-jar-with-dependencies\\.jar"))
                    .findFirst().orElse(null);
        }
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public String driver() {
        return "S3";
    }

    @Override
    public String driverParameters(String container, int timeoutSeconds) {
        return "          Bucket: " + container + "\n"
                + "          Endpoint: " + endpoint() + "\n"
                + "          Region: us-east-1\n"
                + "          AccessKeyID: " + IDENTITY + "\n"
                + "          SecretAccessKey: " + CREDENTIAL + "\n"
                + "          UsePathStyle: true\n"
                + "          ConnectTimeout: " + timeoutSeconds + "s\n"
                + "          ReadTimeout: " + timeoutSeconds + "s\n"
                + "          UnsafeDelete: true\n";
    }

    /** With the filesystem backend a bucket is a directory under the data directory. */
    @Override
    public void createContainer(String name) throws IOException {
        Files.createDirectories(home.resolve("data").resolve(name));
    }

    @Override
    public void launch() throws Exception {
        process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString(), "--properties", home.resolve("s3proxy.properties").toString()))
                .directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("s3proxy.log").toFile())).start();
        for (int i = 0; i < 1200; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("s3proxy exited: " + Files.readString(home.resolve("s3proxy.log")));
            }
            if (answers()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("s3proxy did not answer on port " + port);
    }

    private boolean answers() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(500);
            c.getResponseCode();
            c.disconnect();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void freeze() throws Exception {
        Emulator.signal(process, "STOP");
    }

    @Override
    public void thaw() throws Exception {
        Emulator.signal(process, "CONT");
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            try {
                thaw();
            } catch (IOException e) {
                // it may not be stopped
            }
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
