package org.keepstore.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.keepstore.server.ServerProcess;

/**
 * A private S3Proxy (S3 API over a local directory) for outage tests: its jar comes from
 * {@code scripts/backends/s3proxy.sh install} (shared with scripts/test.sh); the test runs it on a
 * fixed port with its data on disk, so it can be killed, frozen and brought back unchanged.
 */
final class S3ProxyEmulator extends Emulator {
    private static final String IDENTITY = "outage-test";
    private static final String CREDENTIAL = "outage-test-secret-0123456789";

    private final Path jar;
    private final Path home;

    private S3ProxyEmulator(Path jar, Path home, int port) {
        super("s3proxy", home, port, 1200);
        this.jar = jar;
        this.home = home;
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
        S3ProxyEmulator emulator = new S3ProxyEmulator(jar,
                Files.createDirectories(home), ServerProcess.freePort());
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
    List<String> command() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar",
                jar.toString(), "--properties", home.resolve("s3proxy.properties").toString());
    }

    @Override
    String probeUrl() {
        return endpoint() + "/";
    }
}
