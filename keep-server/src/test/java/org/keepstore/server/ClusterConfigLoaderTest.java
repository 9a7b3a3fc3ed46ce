package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Mount;
import org.keepstore.server.flags.LegacyFlags;

/**
 * {@code -config} files into settings: the sample in the reference's layout, unknown keys,
 * every missing or invalid required setting, how a keepstore finds itself among the
 * InternalURLs, and flags that override the file.
 */
class ClusterConfigLoaderTest {
    private static final int PORT = 25199;
    /** In these tests only 127.0.0.1 and localhost are this machine. */
    private static final Predicate<String> LOCAL = h -> h.equals("127.0.0.1") || h.equals("localhost");

    @TempDir
    Path tmp;
    private Path[] roots;
    private ClusterConfigLoader loader;

    @BeforeEach
    void makeRoots() throws Exception {
        roots = ConfigFixtures.sampleRoots(tmp);
    }

    private ServerSettings load(Path config, Map<String, String> env, String... flags) throws Exception {
        LegacyFlags parsed = new LegacyFlags().parse(ConfigFixtures.args(config, flags));
        ServerSettings fromFlags = parsed.toSettings(tmp.resolve("no-mounts-file"));
        loader = new ClusterConfigLoader(env, LOCAL, () -> new java.io.ByteArrayInputStream(new byte[0]));
        return loader.load(config, fromFlags, parsed.givenFlags());
    }

    private ServerSettings load(Path config, String... flags) throws Exception {
        return load(config, Map.of(), flags);
    }

    private Path sample() throws Exception {
        return ConfigFixtures.sampleConfig(tmp, PORT, roots);
    }

    /**
     * A small valid config; {@code extra} is appended inside the cluster (indented 4), and
     * {@code otherKeepstores} are listed in InternalURLs after this server.
     */
    private Path minimal(String collections, String volumes, String extra, String... otherKeepstores)
            throws Exception {
        StringBuilder others = new StringBuilder();
        for (String url : otherKeepstores) {
            others.append("\n          \"").append(url).append("\": {}");
        }
        return ConfigFixtures.write(tmp, "minimal.yml", """
                Clusters:
                  zzzzz:
                    SystemRootToken: root
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://127.0.0.1:%d": {}%s
                    Collections:
                %s
                    Volumes:
                %s
                %s""".formatted(PORT, others, collections.isEmpty() ? "      BlobSigning: false" : collections,
                volumes.isEmpty() ? directoryVolume("zzzzz-nyw5e-000000000000001", roots[0]) : volumes, extra));
    }

    private static String directoryVolume(String uuid, Path root) {
        return "      " + uuid + ":\n        Driver: Directory\n        DriverParameters:\n          Root: " + root + "\n";
    }

    private String startupError(Path config, String... flags) {
        StartupException e = assertThrows(StartupException.class, () -> load(config, flags));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("-config " + config + ": "), e.getMessage());
        return e.getMessage();
    }

    private static VolumeSpec volume(ServerSettings s, String uuid) {
        return s.volumes().stream().filter(v -> v.uuid().equals(uuid)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + uuid + " in " + s.volumes()));
    }

    // ------------------------------------------------------------ the sample

    @Test
    void sampleConfigGivesTheExpectedServer() throws Exception {
        Path config = sample();
        Files.setPosixFilePermissions(config, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        ServerSettings s = load(config);
        assertEquals("127.0.0.1", s.listenHost());
        assertEquals(PORT, s.listenPort());
        assertEquals(List.of(ConfigFixtures.DEFAULT_UUID, ConfigFixtures.ARCHIVE_UUID, ConfigFixtures.READ_ONLY_UUID),
                s.volumes().stream().map(VolumeSpec::uuid).toList(), "the other keepstore's volume is not mounted");

        VolumeSpec standard = volume(s, ConfigFixtures.DEFAULT_UUID);
        assertEquals("Directory", standard.driver());
        assertEquals(roots[0].toString(), standard.parameters().get("Root"));
        assertEquals(false, standard.parameters().get("Serialize"));
        assertTrue(standard.writable());
        assertTrue(standard.allowTrash());
        assertEquals(1, standard.replication());
        assertEquals(Set.of("default"), standard.storageClasses());
        assertEquals(0, standard.priority());

        VolumeSpec archive = volume(s, ConfigFixtures.ARCHIVE_UUID);
        assertTrue(archive.writable());
        assertEquals(2, archive.replication());
        assertEquals(Set.of("archive"), archive.storageClasses());
        assertEquals(10, archive.priority());

        VolumeSpec readOnly = volume(s, ConfigFixtures.READ_ONLY_UUID);
        assertFalse(readOnly.writable());
        assertTrue(readOnly.allowTrash(), "AllowTrashWhenReadOnly");
        assertEquals(Set.of("default"), readOnly.storageClasses());
        assertEquals(1, readOnly.replication());

        assertEquals(ConfigFixtures.ADMIN_TOKEN, s.adminToken());
        assertEquals(ConfigFixtures.MANAGEMENT_TOKEN, s.managementToken());
        assertTrue(s.enforcePermissions());
        assertArrayEquals(ConfigFixtures.SIGNING_KEY.getBytes(StandardCharsets.UTF_8), s.blobSigningKey());
        assertEquals(Duration.ofDays(14), s.blobSignatureTtl());
        assertTrue(s.trashEnabled());
        assertEquals(Duration.ofHours(48), s.trashLifetime());
        assertEquals(Duration.ofMinutes(10), s.trashCheckInterval());
        assertEquals(8, s.maxBuffers());
        assertEquals(24, s.maxRequests());
        assertEquals(new ServerSettings.WorkerConcurrency(2, 3, 5), s.workerConcurrency());
        assertEquals(Set.of("default"), s.defaultStorageClasses());
        assertNull(s.pidFile());
        assertEquals(List.of(), loader.warnings(), "SAMPLE entries and other services' keys are not warned about");
    }

    @Test
    void aWorldReadableConfigWithSecretsIsWarnedAbout() throws Exception {
        Path config = sample();
        Files.setPosixFilePermissions(config, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        load(config);
        assertTrue(loader.warnings().stream().anyMatch(w -> w.contains("every user can read this file")),
                loader.warnings().toString());
    }

    @Test
    void defaultsAreTheReferences() throws Exception {
        ServerSettings s = load(minimal("      BlobSigningKey: k", "", ""));
        assertTrue(s.enforcePermissions(), "BlobSigning defaults to true");
        assertEquals(Duration.ofHours(336), s.blobSignatureTtl());
        assertTrue(s.trashEnabled());
        assertEquals(Duration.ofHours(336), s.trashLifetime());
        assertEquals(Duration.ofHours(24), s.trashCheckInterval());
        assertEquals(128, s.maxBuffers());
        assertEquals(256, s.maxRequests(), "no MaxConcurrentRequests: 2 × MaxKeepBlobBuffers");
        assertEquals(ServerSettings.WorkerConcurrency.DEFAULTS, s.workerConcurrency());
        assertNull(s.managementToken());
        VolumeSpec v = s.volumes().get(0);
        assertEquals(Set.of("default"), v.storageClasses());
        assertEquals(1, v.replication());
        assertTrue(v.writable());
        assertEquals(Set.of("default"), s.defaultStorageClasses(), "no StorageClasses: the implicit default class");
    }

    // ------------------------------------------------------------ unknown keys

    @Test
    void unknownKeysAreWarnedWithTheirPathAndIgnored() throws Exception {
        Path config = ConfigFixtures.write(tmp, "typos.yml", """
                Clusterz: {}
                Clusters:
                  zzzzz:
                    SystemRootTokn: oops
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://127.0.0.1:%d": {ListenUrl: "http://0.0.0.0:1"}
                    Collections:
                      BlobSigning: false
                      BlobSigningTtl: 1h
                      DefaultReplication: 2
                    API:
                      MaxKeepBlobBufers: 3
                    Volumes:
                      zzzzz-nyw5e-000000000000001:
                        Driver: Directory
                        Replicaton: 3
                        DriverParameters:
                          Root: %s
                          Serialise: true
                          LocationConstraint: false
                """.formatted(PORT, roots[0]));
        ServerSettings s = load(config);
        assertEquals(1, s.volumes().size());
        assertEquals(Duration.ofHours(336), s.blobSignatureTtl(), "the misspelt key left the default in force");
        List<String> w = loader.warnings();
        for (String path : List.of("Clusterz", "Clusters.zzzzz.SystemRootTokn", "Clusters.zzzzz.Collections.BlobSigningTtl",
                "Clusters.zzzzz.API.MaxKeepBlobBufers", "Clusters.zzzzz.Volumes.zzzzz-nyw5e-000000000000001.Replicaton",
                "Clusters.zzzzz.Volumes.zzzzz-nyw5e-000000000000001.DriverParameters.Serialise",
                "Clusters.zzzzz.Services.Keepstore.InternalURLs.http://127.0.0.1:" + PORT + ".ListenUrl")) {
            assertTrue(w.stream().anyMatch(line -> line.contains("unknown key " + path + " ")), path + " in " + w);
        }
        assertFalse(w.stream().anyMatch(line -> line.contains("DefaultReplication")), "a key of another service");
        assertFalse(w.stream().anyMatch(line -> line.contains("LocationConstraint")), "a reference S3 key");
    }

    // ------------------------------------------------------------ required settings

    @Test
    void missingOrInvalidRequiredSettingsAreOneLineErrors() throws Exception {
        assertTrue(startupError(ConfigFixtures.write(tmp, "empty.yml", "")).contains("empty"));
        assertTrue(startupError(ConfigFixtures.write(tmp, "noclusters.yml", "Clusters: {}\n"))
                .contains("no cluster configured"));
        assertTrue(startupError(ConfigFixtures.write(tmp, "two.yml", "Clusters:\n  aaaaa: {}\n  bbbbb: {}\n"))
                .contains("2 clusters configured (aaaaa, bbbbb)"));
        assertTrue(startupError(ConfigFixtures.write(tmp, "badid.yml", "Clusters:\n  zzzz: {}\n"))
                .contains("Clusters.zzzz: a cluster id is 5 characters"));
        assertTrue(startupError(ConfigFixtures.write(tmp, "bad.yml", "Clusters: [\n")).contains("not valid YAML"));
        assertTrue(startupError(tmp.resolve("absent.yml")).endsWith("no such file"));

        String elsewhere = "      zzzzz-nyw5e-000000000000001:\n        AccessViaHosts:\n"
                + "          \"http://keep9.example:25107\": {}\n        Driver: Directory\n"
                + "        DriverParameters:\n          Root: " + roots[0] + "\n";
        assertTrue(startupError(minimal("", elsewhere, "")).contains(
                "Clusters.zzzzz.Volumes: no volume belongs to this server (http://127.0.0.1:" + PORT + ")"));

        String noDriver = "      zzzzz-nyw5e-000000000000001:\n        DriverParameters:\n          Root: " + roots[0] + "\n";
        assertTrue(startupError(minimal("", noDriver, ""))
                .contains("Clusters.zzzzz.Volumes.zzzzz-nyw5e-000000000000001.Driver is missing"));
        String noRoot = "      zzzzz-nyw5e-000000000000001:\n        Driver: Directory\n";
        assertTrue(startupError(minimal("", noRoot, ""))
                .contains("Clusters.zzzzz.Volumes.zzzzz-nyw5e-000000000000001.DriverParameters.Root is missing"));
        assertTrue(startupError(minimal("      BlobSigning: true", "", ""))
                .contains("Clusters.zzzzz.Collections.BlobSigning is true but Clusters.zzzzz.Collections.BlobSigningKey"
                        + " is empty"));
        assertTrue(startupError(minimal("      BlobSigningKey: \"\"", "", ""))
                .contains("BlobSigningKey is empty"), "BlobSigning defaults to true");
        assertTrue(startupError(minimal("", "", "    API:\n      MaxKeepBlobBuffers: 0\n"))
                .contains("Clusters.zzzzz.API.MaxKeepBlobBuffers: must be greater than zero"));
        assertTrue(startupError(minimal("", "", "    StorageClasses:\n      archive: {Priority: 1}\n"))
                .contains("Clusters.zzzzz.StorageClasses: no class has Default: true"));
        assertTrue(startupError(minimal("", "", "    API:\n      MaxKeepBlobBuffers: 2000000\n"))
                .contains("more memory than any machine has"));
        assertTrue(startupError(minimal("", "", "    API:\n      MaxKeepBlobBuffers: lots\n"))
                .contains("Clusters.zzzzz.API.MaxKeepBlobBuffers: expected a whole number"));
        String badDriver = "      zzzzz-nyw5e-000000000000001:\n        Driver: Directory\n        ReadOnly: maybe\n"
                + "        DriverParameters:\n          Root: " + roots[0] + "\n";
        assertTrue(startupError(minimal("", badDriver, ""))
                .contains("Clusters.zzzzz.Volumes.zzzzz-nyw5e-000000000000001.ReadOnly: expected true or false"));
        String twice = directoryVolume("zzzzz-nyw5e-000000000000001", roots[0])
                + directoryVolume("zzzzz-nyw5e-000000000000001", roots[1]);
        assertTrue(startupError(minimal("", twice, "")).contains("not valid YAML"), "duplicate volume UUID");
    }

    @Test
    void durationsFollowTheReferenceSyntax() throws Exception {
        ServerSettings s = load(minimal("      BlobSigning: false\n      BlobSigningTTL: 1h30m\n"
                + "      BlobTrashLifetime: 0\n      BlobTrashCheckInterval: \"90s\"", "", ""));
        assertEquals(Duration.ofMinutes(90), s.blobSignatureTtl());
        assertEquals(Duration.ZERO, s.trashLifetime());
        assertEquals(Duration.ofSeconds(90), s.trashCheckInterval());

        assertTrue(startupError(minimal("      BlobSigning: false\n      BlobSigningTTL: 2w", "", ""))
                .contains("Clusters.zzzzz.Collections.BlobSigningTTL: "), "w is not a Go duration unit");
        assertTrue(startupError(minimal("      BlobSigning: false\n      BlobTrashLifetime: 10", "", ""))
                .contains("Clusters.zzzzz.Collections.BlobTrashLifetime: 10 is not a duration: give a unit"));
        assertTrue(startupError(minimal("      BlobSigning: false\n      BlobSigningTTL: 0s", "", ""))
                .contains("BlobSigningTTL: must be greater than zero"));
        assertTrue(startupError(minimal("      BlobSigning: false\n      BlobTrashLifetime: 3 days", "", ""))
                .contains("BlobTrashLifetime: "));
    }

    @Test
    void zeroCheckIntervalOrDeleteConcurrencyMeansTrashIsNeverEmptied() throws Exception {
        ServerSettings s = load(minimal("      BlobSigning: false\n      BlobTrashCheckInterval: 0", "", ""));
        assertEquals(0, s.workerConcurrency().delete());
        assertFalse(s.trashCheckInterval().isNegative() || s.trashCheckInterval().isZero());
        s = load(minimal("      BlobSigning: false\n      BlobDeleteConcurrency: 0", "", ""));
        assertEquals(0, s.workerConcurrency().delete());
    }

    // ------------------------------------------------------------ storage classes and access

    @Test
    void mountPriorityIsTheHighestOfTheClassesTheVolumeLists() throws Exception {
        String volumes = """
                      zzzzz-nyw5e-000000000000001:
                        StorageClasses: {fast: true, archive: true, never: false}
                        Driver: Directory
                        DriverParameters: {Root: %s}
                      zzzzz-nyw5e-000000000000002:
                        Driver: Directory
                        DriverParameters: {Root: %s}
                      zzzzz-nyw5e-000000000000003:
                        StorageClasses: {negative: true}
                        Driver: Directory
                        DriverParameters: {Root: %s}
                """.formatted(roots[0], roots[1], roots[2]);
        ServerSettings s = load(minimal("", volumes, """
                    StorageClasses:
                      default: {Default: true, Priority: 7}
                      fast: {Priority: 30}
                      archive: {Priority: 5, Default: true}
                      never: {Priority: 100}
                      negative: {Priority: -4}
                """));
        assertEquals(Set.of("fast", "archive"), volume(s, "zzzzz-nyw5e-000000000000001").storageClasses(),
                "a class set to false is not offered");
        assertEquals(30, volume(s, "zzzzz-nyw5e-000000000000001").priority());
        // As in the reference: a volume that names no class is in "default" with priority 0.
        assertEquals(Set.of("default"), volume(s, "zzzzz-nyw5e-000000000000002").storageClasses());
        assertEquals(0, volume(s, "zzzzz-nyw5e-000000000000002").priority());
        assertEquals(0, volume(s, "zzzzz-nyw5e-000000000000003").priority(), "never below 0");
        assertEquals(Set.of("default", "archive"), s.defaultStorageClasses());
        assertTrue(loader.warnings().stream().anyMatch(w -> w.contains("StorageClasses.never: no volume offers")),
                loader.warnings().toString());
    }

    @Test
    void accessViaHostsNamingNoListedKeepstoreIsWarnedAbout() throws Exception {
        String volumes = directoryVolume("zzzzz-nyw5e-000000000000001", roots[0])
                + "        AccessViaHosts:\n          \"http://127.0.0.1:%d\": {}\n".formatted(PORT)
                + directoryVolume("zzzzz-nyw5e-000000000000002", roots[1])
                + "        AccessViaHosts:\n          \"http://keep9.example:25107\": {}\n";
        ServerSettings s = load(minimal("", volumes, ""));
        assertEquals(List.of("zzzzz-nyw5e-000000000000001"), s.volumes().stream().map(VolumeSpec::uuid).toList());
        assertTrue(loader.warnings().stream().anyMatch(w -> w.contains("zzzzz-nyw5e-000000000000002.AccessViaHosts: "
                + "http://keep9.example:25107 is not a keepstore listed")), loader.warnings().toString());
    }

    @Test
    void aListedKeepstoreWithoutVolumesIsWarnedAbout() throws Exception {
        String volumes = directoryVolume("zzzzz-nyw5e-000000000000001", roots[0])
                + "        AccessViaHosts:\n          \"http://127.0.0.1:%d\": {}\n".formatted(PORT);
        load(minimal("", volumes, "", "http://keep2.example:25107"));
        assertTrue(loader.warnings().stream().anyMatch(w -> w.contains("http://keep2.example:25107 has no volume")),
                loader.warnings().toString());
        assertFalse(loader.warnings().stream().anyMatch(w -> w.contains("127.0.0.1:" + PORT + " has no volume")),
                loader.warnings().toString());
    }

    @Test
    void perHostReadOnlyAndAllowTrashWhenReadOnly() throws Exception {
        String volumes = """
                      zzzzz-nyw5e-000000000000001:
                        AccessViaHosts:
                          "http://127.0.0.1:%d": {ReadOnly: true}
                        AllowTrashWhenReadOnly: true
                        Driver: Directory
                        DriverParameters: {Root: %s}
                      zzzzz-nyw5e-000000000000002:
                        ReadOnly: true
                        Driver: Directory
                        DriverParameters: {Root: %s}
                      zzzzz-nyw5e-000000000000003:
                        AccessViaHosts:
                          "HTTP://127.0.0.1:%d/": {}
                        Driver: Directory
                        DriverParameters: {Root: %s}
                """.formatted(PORT, roots[0], roots[1], PORT, roots[2]);
        ServerSettings s = load(minimal("", volumes, ""));
        VolumeSpec hostReadOnly = volume(s, "zzzzz-nyw5e-000000000000001");
        assertFalse(hostReadOnly.writable());
        assertFalse(hostReadOnly.allowTrash(), "read-only for this host: no trash even with AllowTrashWhenReadOnly");
        VolumeSpec readOnly = volume(s, "zzzzz-nyw5e-000000000000002");
        assertFalse(readOnly.writable());
        assertFalse(readOnly.allowTrash());
        assertTrue(volume(s, "zzzzz-nyw5e-000000000000003").writable(), "URLs match whatever their spelling");
    }

    // ------------------------------------------------------------ which keepstore this is

    private Path twoKeepstores(String firstHost, String secondHost, String secondExtra) throws Exception {
        return ConfigFixtures.write(tmp, "two-keepstores.yml", """
                Clusters:
                  zzzzz:
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://%s:%d": {}
                          "http://%s:%d": {%s}
                    Collections: {BlobSigning: false}
                    Volumes:
                      zzzzz-nyw5e-000000000000001:
                        AccessViaHosts: {"http://%s:%d": {}}
                        Driver: Directory
                        DriverParameters: {Root: %s}
                      zzzzz-nyw5e-000000000000002:
                        AccessViaHosts: {"http://%s:%d": {}}
                        Driver: Directory
                        DriverParameters: {Root: %s}
                      zzzzz-nyw5e-000000000000003:
                        Driver: Directory
                        DriverParameters: {Root: %s}
                """.formatted(firstHost, PORT, secondHost, PORT + 1, secondExtra, firstHost, PORT, roots[0],
                secondHost, PORT + 1, roots[1], roots[2]));
    }

    private static List<String> uuids(ServerSettings s) {
        return s.volumes().stream().map(VolumeSpec::uuid).toList();
    }

    @Test
    void theInternalUrlWhoseHostIsThisMachineIsThisServer() throws Exception {
        ServerSettings s = load(twoKeepstores("keep0.example", "localhost", ""));
        assertEquals("localhost", s.listenHost());
        assertEquals(PORT + 1, s.listenPort());
        assertEquals(List.of("zzzzz-nyw5e-000000000000002", "zzzzz-nyw5e-000000000000003"), uuids(s),
                "its own volume and the one every keepstore shares");
    }

    @Test
    void aWildcardListenUrlDoesNotMakeEveryEntryLocal() throws Exception {
        Path config = ConfigFixtures.write(tmp, "wildcards.yml", """
                Clusters:
                  zzzzz:
                    Services:
                      Keepstore:
                        InternalURLs:
                          "http://keep0.example:25107": {ListenURL: "http://0.0.0.0:25107"}
                          "http://localhost:25107": {ListenURL: "http://0.0.0.0:25107"}
                          "http://keep2.example:25107": {ListenURL: "http://127.0.0.1:25108"}
                    Collections: {BlobSigning: false}
                    Volumes:
                """ + directoryVolume("zzzzz-nyw5e-000000000000001", roots[0]));
        LegacyFlags parsed = new LegacyFlags().parse(ConfigFixtures.args(config));
        ClusterConfigLoader wildcardAware = new ClusterConfigLoader(Map.of(),
                LOCAL.or(h -> h.equals("0.0.0.0")), () -> new java.io.ByteArrayInputStream(new byte[0]));
        String message = assertThrows(StartupException.class, () -> wildcardAware.load(config,
                parsed.toSettings(tmp.resolve("no-mounts")), parsed.givenFlags())).getMessage();
        // localhost by its name, keep2 by its ListenURL; keep0 only has a wildcard ListenURL.
        assertTrue(message.contains("(http://localhost:25107, http://keep2.example:25107)"), message);
        ServerSettings s = wildcardAware.load(config, new LegacyFlags().parse(ConfigFixtures.args(config,
                "-listen=:25108")).toSettings(tmp.resolve("no-mounts")), Set.of("listen"));
        assertEquals(25108, s.listenPort());
    }

    @Test
    void environmentNamesTheInternalUrlAndListenUrlIsWhereToBind() throws Exception {
        Path config = twoKeepstores("keep0.example", "keep1.example", "ListenURL: \"http://0.0.0.0:4321\"");
        ServerSettings s = load(config, Map.of(ClusterConfigLoader.INTERNAL_URL_ENV,
                "http://keep1.example:" + (PORT + 1) + "/"));
        assertEquals("0.0.0.0", s.listenHost());
        assertEquals(4321, s.listenPort());
        assertEquals(List.of("zzzzz-nyw5e-000000000000002", "zzzzz-nyw5e-000000000000003"), uuids(s));
    }

    @Test
    void listenFlagPortChoosesAmongLocalInternalUrls() throws Exception {
        Path config = twoKeepstores("127.0.0.1", "localhost", "");
        assertTrue(startupError(config).contains("several of Clusters.zzzzz.Services.Keepstore.InternalURLs are"
                + " addresses of this machine"));
        ServerSettings s = load(config, "-listen=:" + PORT);
        assertEquals("", s.listenHost(), "-listen also sets the bind address");
        assertEquals(PORT, s.listenPort());
        assertEquals(List.of("zzzzz-nyw5e-000000000000001", "zzzzz-nyw5e-000000000000003"), uuids(s));
        // A port no entry has cannot choose between them.
        assertTrue(startupError(config, "-listen=:1").contains("several of"));
    }

    @Test
    void noInternalUrlOfThisMachineIsAnError() throws Exception {
        String message = startupError(twoKeepstores("keep0.example", "keep1.example", ""));
        assertTrue(message.contains("none of Clusters.zzzzz.Services.Keepstore.InternalURLs (http://keep0.example:"
                + PORT + ", http://keep1.example:" + (PORT + 1) + ") is an address of this machine"), message);
        assertTrue(message.contains(ClusterConfigLoader.INTERNAL_URL_ENV), message);
    }

    @Test
    void withoutInternalUrlsOnlyListenGivesAServerTheSharedVolumes() throws Exception {
        Path config = ConfigFixtures.write(tmp, "no-urls.yml", """
                Clusters:
                  zzzzz:
                    Collections: {BlobSigning: false}
                    Volumes:
                """ + directoryVolume("zzzzz-nyw5e-000000000000001", roots[0]));
        assertTrue(startupError(config).contains("Clusters.zzzzz.Services.Keepstore.InternalURLs is empty"));
        ServerSettings s = load(config, "-listen=127.0.0.1:" + PORT);
        assertEquals(List.of("zzzzz-nyw5e-000000000000001"), uuids(s));
    }

    @Test
    void dashReadsTheConfigFromStandardInput() throws Exception {
        String yaml = Files.readString(minimal("", "", ""));
        LegacyFlags parsed = new LegacyFlags().parse(List.of("-config", "-"));
        ClusterConfigLoader stdinLoader = new ClusterConfigLoader(Map.of(), LOCAL,
                () -> new java.io.ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
        ServerSettings s = stdinLoader.load(Path.of("-"), parsed.toSettings(tmp.resolve("no-mounts")),
                parsed.givenFlags());
        assertEquals(List.of("zzzzz-nyw5e-000000000000001"), uuids(s));
    }

    // ------------------------------------------------------------ the operators' guide

    @Test
    void theExampleInTheOperatorsGuideIsAValidConfig() throws Exception {
        String guide = Files.readString(Path.of("..", "docs", "operators.md"));
        int start = guide.indexOf("```yaml\n") + "```yaml\n".length();
        String yaml = guide.substring(start, guide.indexOf("```\n", start));
        Path config = ConfigFixtures.write(tmp, "guide.yml", yaml);
        Files.setPosixFilePermissions(config, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));

        ServerSettings keep1 = load(config, Map.of(ClusterConfigLoader.INTERNAL_URL_ENV,
                "http://keep1.zzzzz.example.com:25107"));
        assertEquals(List.of(), loader.warnings());
        assertEquals(List.of("zzzzz-nyw5e-keep1disk000001", "zzzzz-nyw5e-oldreadonly0001",
                "zzzzz-nyw5e-sharedbucket001"), uuids(keep1));
        assertEquals("0.0.0.0", keep1.listenHost());
        assertEquals(25107, keep1.listenPort());
        VolumeSpec old = volume(keep1, "zzzzz-nyw5e-oldreadonly0001");
        assertFalse(old.writable());
        assertTrue(old.allowTrash());
        assertEquals(2, volume(keep1, "zzzzz-nyw5e-sharedbucket001").replication());

        ServerSettings keep0 = load(config, Map.of(ClusterConfigLoader.INTERNAL_URL_ENV,
                "http://keep0.zzzzz.example.com:25107"));
        assertEquals(List.of("zzzzz-nyw5e-keep0archive001", "zzzzz-nyw5e-keep0disk000001",
                "zzzzz-nyw5e-sharedbucket001"), uuids(keep0));
        assertEquals(10, volume(keep0, "zzzzz-nyw5e-keep0archive001").priority());
        assertEquals(Set.of("default"), keep0.defaultStorageClasses());
        assertEquals(48, keep0.maxBuffers());
        assertEquals(96, keep0.maxRequests());
    }

    // ------------------------------------------------------------ flags next to -config

    @Test
    void flagsGivenWithConfigOverrideIt() throws Exception {
        Path token = Files.writeString(tmp.resolve("token"), "flag-admin-token\n");
        Path pid = tmp.resolve("keepstore.pid");
        ServerSettings s = load(sample(), "-listen=127.0.0.1:4444", "-max-buffers=3", "-pid=" + pid,
                "-data-manager-token-file=" + token, "-never-delete=true", "-trash-lifetime=1h");
        assertEquals("127.0.0.1", s.listenHost());
        assertEquals(4444, s.listenPort());
        assertEquals(3, s.maxBuffers());
        assertEquals(24, s.maxRequests(), "MaxConcurrentRequests still comes from the config");
        assertEquals(pid, s.pidFile());
        assertEquals("flag-admin-token", s.adminToken());
        assertFalse(s.trashEnabled());
        assertEquals(Duration.ofHours(1), s.trashLifetime());
        assertEquals(3, s.volumes().size(), "volumes still from the config");
        assertEquals(ConfigFixtures.MANAGEMENT_TOKEN, s.managementToken());

        // Flags not given leave the config alone, even where the flag's default differs.
        ServerSettings plain = load(sample());
        assertEquals(8, plain.maxBuffers());
        assertTrue(plain.trashEnabled(), "-never-delete defaults to true, but was not given");
    }

    @Test
    void volumeFlagsReplaceTheConfigsVolumes() throws Exception {
        ServerSettings s = load(sample(), "-volume=" + roots[2]);
        assertEquals(List.of(Mount.uuidFor(roots[2].toString())), uuids(s));
        assertEquals(Set.of("default"), s.volumes().get(0).storageClasses());

        load(sample(), "-readonly");
        assertTrue(loader.warnings().stream().anyMatch(w -> w.startsWith("-readonly has no effect")),
                loader.warnings().toString());
    }

    @Test
    void maxBuffersFlagAlsoSetsTheRequestLimitWhenTheConfigLeavesItOut() throws Exception {
        ServerSettings s = load(minimal("", "", ""), "-max-buffers=5");
        assertEquals(5, s.maxBuffers());
        assertEquals(10, s.maxRequests());
    }
}
