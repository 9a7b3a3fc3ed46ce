package org.keepstore.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Cluster config files for tests: the sample of {@code config/sample-cluster.yml} and small ones built here. */
final class ConfigFixtures {
    static final String ADMIN_TOKEN = KeepProtocolContract.ADMIN_TOKEN;
    static final String MANAGEMENT_TOKEN = "management-token-for-tests";
    static final String SIGNING_KEY = KeepProtocolContract.SIGNING_KEY;
    static final String DEFAULT_UUID = "zzzzz-nyw5e-000000000000001";
    static final String ARCHIVE_UUID = "zzzzz-nyw5e-000000000000002";
    static final String READ_ONLY_UUID = "zzzzz-nyw5e-000000000000003";

    private ConfigFixtures() {
    }

    /** The sample's three volume directories under {@code dir}: default, archive, read-only. */
    static Path[] sampleRoots(Path dir) throws IOException {
        return new Path[]{Files.createDirectories(dir.resolve("vol-default")),
                Files.createDirectories(dir.resolve("vol-archive")),
                Files.createDirectories(dir.resolve("vol-readonly"))};
    }

    /** Writes the sample config for a keepstore on 127.0.0.1:{@code port} over {@code roots}. */
    static Path sampleConfig(Path dir, int port, Path[] roots) throws IOException {
        String text;
        try (InputStream in = ConfigFixtures.class.getResourceAsStream("/config/sample-cluster.yml")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        text = text.replace("@PORT@", Integer.toString(port)).replace("@ROOT1@", roots[0].toString())
                .replace("@ROOT2@", roots[1].toString()).replace("@ROOT3@", roots[2].toString());
        return write(dir, "sample-cluster.yml", text);
    }

    /**
     * The protocol contract's server as a config: two writable Directory volumes in the default
     * class, signatures enforced, trash enabled, no management token (health and metrics open).
     */
    static Path contractConfig(Path dir, int port, Path[] roots) throws IOException {
        StringBuilder volumes = new StringBuilder();
        for (int i = 0; i < roots.length; i++) {
            volumes.append("      zzzzz-nyw5e-contract000000").append(i).append(":\n")
                    .append("        Driver: Directory\n")
                    .append("        DriverParameters:\n")
                    .append("          Root: ").append(roots[i]).append("\n")
                    .append("          Serialize: true\n");
        }
        return contractCluster(dir, "contract-cluster.yml", port, volumes.toString());
    }

    /**
     * Writes {@code fileName}: the contract's cluster (signatures enforced, trash enabled, no
     * management token) on 127.0.0.1:{@code port}, with {@code volumes} as its Volumes section.
     */
    static Path contractCluster(Path dir, String fileName, int port, String volumes) throws IOException {
        return write(dir, fileName, """
                Clusters:
                  zzzzz:
                    SystemRootToken: %s
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://127.0.0.1:%d/": {}
                    API:
                      MaxKeepBlobBuffers: 8
                    Collections:
                      BlobSigning: true
                      BlobSigningKey: %s
                      BlobSigningTTL: 336h
                      BlobTrash: true
                      BlobTrashLifetime: 0
                    Volumes:
                """.formatted(ADMIN_TOKEN, port, SIGNING_KEY) + volumes);
    }

    static Path write(Path dir, String name, String text) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(name);
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    /** {@code -config FILE} plus any further flags. */
    static List<String> args(Path config, String... more) {
        List<String> args = new ArrayList<>(List.of("-config", config.toString()));
        args.addAll(List.of(more));
        return args;
    }
}
