package org.keepstore.server.flags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Mount;
import org.keepstore.server.ServerSettings;
import org.keepstore.server.StartupException;
import org.keepstore.server.VolumeSpec;

class LegacyFlagsTest {
    @TempDir
    Path tmp;

    private ServerSettings settings(String... args) throws Exception {
        return new LegacyFlags().parse(List.of(args)).toSettings(tmp.resolve("no-mounts-file"));
    }

    private Path dir(String name) throws Exception {
        return Files.createDirectories(tmp.resolve(name));
    }

    private Path file(String name, String content) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void defaultsMatchTheReferenceServer() throws Exception {
        ServerSettings s = settings("-volume=" + dir("a"));
        assertEquals("", s.listenHost());
        assertEquals(25107, s.listenPort());
        assertEquals(128, s.maxBuffers());
        assertEquals(256, s.maxRequests(), "max-requests 0 means 2 x max-buffers");
        assertEquals(Duration.ofDays(14), s.blobSignatureTtl());
        assertFalse(s.trashEnabled(), "never-delete defaults to true");
        assertEquals(Duration.ZERO, s.trashLifetime());
        assertEquals(Duration.ofHours(24), s.trashCheckInterval());
        assertFalse(s.enforcePermissions());
        assertNull(s.blobSigningKey());
        assertNull(s.adminToken());
        assertNull(s.pidFile());
    }

    @Test
    void acceptsEveryGoFlagSpelling() throws Exception {
        Path a = dir("a");
        Path b = dir("b");
        ServerSettings s = settings("--listen", "127.0.0.1:9000", "-volume", a.toString(), "--volume=" + b,
                "-max-buffers", "4", "-max-requests=9", "-never-delete=false", "-trash-lifetime", "1h30m",
                "-trash-check-interval=10s");
        assertEquals("127.0.0.1", s.listenHost());
        assertEquals(9000, s.listenPort());
        assertEquals(2, s.volumes().size());
        assertEquals(4, s.maxBuffers());
        assertEquals(9, s.maxRequests());
        assertTrue(s.trashEnabled());
        assertEquals(Duration.ofMinutes(90), s.trashLifetime());
        assertEquals(Duration.ofSeconds(10), s.trashCheckInterval());
    }

    @Test
    void readonlyAndSerializeApplyToTheVolumesThatFollow() throws Exception {
        Path a = dir("a");
        Path b = dir("b");
        Path c = dir("c");
        ServerSettings s = settings("-volume=" + a, "-readonly", "-serialize", "-volume=" + b, "-readonly=false",
                "-volume=" + c);
        List<VolumeSpec> v = s.volumes();
        assertTrue(v.get(0).writable());
        assertEquals(false, v.get(0).parameters().get("Serialize"));
        assertFalse(v.get(1).writable());
        assertEquals(true, v.get(1).parameters().get("Serialize"));
        assertTrue(v.get(2).writable());
        assertEquals(true, v.get(2).parameters().get("Serialize"));
        assertEquals(a.toString(), v.get(0).parameters().get("Root"));
        assertEquals(Mount.uuidFor(a.toString()), v.get(0).uuid());
    }

    @Test
    void commaListsAndVolumesSynonymStillWork() throws Exception {
        Path a = dir("a");
        Path b = dir("b");
        Path c = dir("c");
        ServerSettings s = settings("-volume=" + a + "," + b, "-volumes", c.toString());
        assertEquals(List.of(a.toString(), b.toString(), c.toString()),
                s.volumes().stream().map(v -> v.parameters().get("Root")).toList());
    }

    @Test
    void synonymsAndKeyFilesAreReadTrimmed() throws Exception {
        Path key = file("key", "  secret-key\n");
        Path token = file("token", "admin-token\n\n");
        ServerSettings s = settings("-volume=" + dir("a"), "-permission-key-file=" + key, "-permission-ttl=60",
                "-data-manager-token-file", token.toString(), "-enforce-permissions");
        assertEquals("secret-key", new String(s.blobSigningKey()));
        assertEquals(Duration.ofSeconds(60), s.blobSignatureTtl());
        assertEquals("admin-token", s.adminToken());
        assertTrue(s.enforcePermissions());
    }

    @Test
    void legacyCloudFlagsBecomeDriverParameters() throws Exception {
        Path access = file("access", "AKID\n");
        Path secret = file("secret", "SECRET\n");
        Path azureKey = file("azure", "AZKEY\n");
        ServerSettings s = settings("-s3-endpoint=http://127.0.0.1:9000", "-s3-region=us-east-1",
                "-s3-access-key-file=" + access, "-s3-secret-key-file=" + secret, "-s3-race-window=1h",
                "-s3-unsafe-delete", "-s3-prefix-length=3", "-s3-use-path-style", "-s3-bucket-volume=bucket1",
                "-azure-storage-account-name=acct", "-azure-storage-account-key-file=" + azureKey,
                "-azure-max-get-bytes=1048576", "-azure-endpoint=http://127.0.0.1:10000/acct",
                "-azure-storage-container-volume=cont1");
        VolumeSpec s3 = s.volumes().get(0);
        assertEquals("S3", s3.driver());
        assertEquals(2, s3.replication());
        assertEquals("bucket1", s3.parameters().get("Bucket"));
        assertEquals("http://127.0.0.1:9000", s3.parameters().get("Endpoint"));
        assertEquals("us-east-1", s3.parameters().get("Region"));
        assertEquals("AKID", s3.parameters().get("AccessKeyID"));
        assertEquals("SECRET", s3.parameters().get("SecretAccessKey"));
        assertEquals("1h0m0s", s3.parameters().get("RaceWindow"));
        assertEquals(true, s3.parameters().get("UnsafeDelete"));
        assertEquals(3L, s3.parameters().get("PrefixLength"));
        assertEquals(true, s3.parameters().get("UsePathStyle"));
        assertEquals(Mount.uuidFor("s3:http://127.0.0.1:9000/bucket1"), s3.uuid());
        VolumeSpec az = s.volumes().get(1);
        assertEquals("Azure", az.driver());
        assertEquals(3, az.replication());
        assertEquals("cont1", az.parameters().get("ContainerName"));
        assertEquals("acct", az.parameters().get("StorageAccountName"));
        assertEquals("AZKEY", az.parameters().get("StorageAccountKey"));
        assertEquals(1048576L, az.parameters().get("MaxGetBytes"));
        assertEquals("http://127.0.0.1:10000/acct", az.parameters().get("Endpoint"));
        assertFalse(s.volumes().toString().contains("SECRET"), "secrets never appear in toString");
    }

    @Test
    void helpUnknownAndBadValuesAreFlagErrors() {
        assertEquals(FlagException.Kind.HELP, assertThrows(FlagException.class,
                () -> new LegacyFlags().parse(List.of("-h"))).kind());
        assertEquals(FlagException.Kind.HELP, assertThrows(FlagException.class,
                () -> new LegacyFlags().parse(List.of("--help"))).kind());
        FlagException unknown = assertThrows(FlagException.class, () -> new LegacyFlags().parse(List.of("-nope")));
        assertEquals(FlagException.Kind.UNKNOWN, unknown.kind());
        assertEquals("flag provided but not defined: -nope", unknown.getMessage());
        for (String bad : List.of("-max-buffers=x", "-trash-lifetime=3d", "-never-delete=maybe", "-volume=relative",
                "-max-buffers=0", "-blob-signature-ttl", "-trash-check-interval=0", "-volume=", "-volumes=",
                "-volume=/a,,/b", "-s3-replication=4294967297", "-azure-storage-replication=4294967296")) {
            assertEquals(FlagException.Kind.INVALID_VALUE,
                    assertThrows(FlagException.class, () -> new LegacyFlags().parse(List.of(bad)), bad).kind(), bad);
        }
    }

    @Test
    void startupErrorsNameTheProblem() throws Exception {
        Path a = dir("a");
        assertTrue(assertThrows(StartupException.class, () -> settings("-volume=" + tmp.resolve("missing")))
                .getMessage().contains("no such directory"));
        assertTrue(assertThrows(StartupException.class, () -> settings("-volume=" + a, "-enforce-permissions"))
                .getMessage().contains("-blob-signing-key-file"));
        assertTrue(assertThrows(StartupException.class,
                () -> settings("-volume=" + a, "-blob-signing-key-file=" + tmp.resolve("nokey")))
                .getMessage().contains("cannot read"));
        assertTrue(assertThrows(StartupException.class, () -> settings("-volume=" + a, "-listen=nonsense"))
                .getMessage().contains("-listen"));
        assertTrue(assertThrows(StartupException.class, () -> settings("-volume=" + a, "-readonly", "-volume=" + a))
                .getMessage().contains("more than once"));
        assertTrue(assertThrows(StartupException.class,
                () -> settings("-s3-bucket-volume=b", "-s3-bucket-volume=b")).getMessage().contains("more than once"));
        // A NUL byte fits in a flag but in no path.
        for (String[] bad : List.of(new String[] {"-volume=/a\0b"},
                new String[] {"-volume=" + a, "-blob-signing-key-file=k\0"},
                new String[] {"-volume=" + a, "-pid=p\0"},
                new String[] {"-volume=" + a, "-data-manager-token-file=\0"})) {
            String message = assertThrows(StartupException.class, () -> settings(bad)).getMessage();
            assertTrue(message.contains("not a valid path"), message);
        }
    }

    @Test
    void oneDirectorySpelledTwoWaysIsOneVolume() throws Exception {
        Path a = dir("a");
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-a"), a);
        for (String other : List.of(a + "/", a + "/./", link.toString())) {
            assertTrue(assertThrows(StartupException.class, () -> settings("-volume=" + a, "-volume=" + other))
                    .getMessage().contains("more than once"), other);
        }
        assertEquals(Mount.uuidFor(a.toString()), settings("-volume=" + a + "/").volumes().get(0).uuid(),
                "a trailing slash does not change the mount's UUID");
    }

    @Test
    void distinctCloudVolumesSharingANameGetDistinctStableUuids() throws Exception {
        String[] flags = {"-s3-endpoint=http://127.0.0.1:9000", "-s3-bucket-volume=keep",
            "-s3-endpoint=http://127.0.0.1:9001", "-s3-bucket-volume=keep",
            "-azure-storage-account-name=acct", "-azure-storage-container-volume=keep",
            "-s3-bucket-volume=other"};
        List<String> uuids = settings(flags).volumes().stream().map(VolumeSpec::uuid).toList();
        assertEquals(4, Set.copyOf(uuids).size(), uuids.toString());
        assertEquals(uuids, settings(flags).volumes().stream().map(VolumeSpec::uuid).toList(), "same on every start");
        assertTrue(assertThrows(StartupException.class, () -> settings("-s3-endpoint=http://127.0.0.1:9000",
                "-s3-bucket-volume=keep", "-s3-bucket-volume=keep")).getMessage().contains("more than once"));
        assertTrue(assertThrows(StartupException.class, () -> settings("-s3-endpoint=http://127.0.0.1:9000",
                "-s3-bucket-volume=keep", "-s3-endpoint=http://127.0.0.1:9000/", "-s3-bucket-volume=keep"))
                .getMessage().contains("more than once"), "a trailing slash does not make another endpoint");

        // Each volume keeps its UUID when volumes with the same name are added or removed.
        Map<String, String> alone = Map.of(
                "s3-9000", uuidOfOnly("-s3-endpoint=http://127.0.0.1:9000", "-s3-bucket-volume=keep"),
                "s3-9001", uuidOfOnly("-s3-endpoint=http://127.0.0.1:9001", "-s3-bucket-volume=keep"),
                "azure", uuidOfOnly("-azure-storage-account-name=acct", "-azure-storage-container-volume=keep"));
        assertEquals(List.of(alone.get("s3-9000"), alone.get("s3-9001"), alone.get("azure")), uuids.subList(0, 3));
    }

    private String uuidOfOnly(String... flags) throws Exception {
        List<VolumeSpec> specs = settings(flags).volumes();
        assertEquals(1, specs.size());
        return specs.get(0).uuid();
    }

    @Test
    void usageLooksLikeGoFlagPackage() {
        String usage = new LegacyFlags().usage();
        assertTrue(usage.startsWith("Usage of keepstore:\n"));
        assertTrue(usage.contains("\n  -listen string\n    \t"), usage);
        assertTrue(usage.contains("(default \":25107\")"));
        assertTrue(usage.contains("\n  -readonly\n    \t"));
        assertTrue(usage.contains("\n  -max-buffers int\n    \t"));
        assertTrue(usage.contains("(default 128)"));
        assertTrue(usage.contains("\n  -trash-check-interval duration\n"));
        assertTrue(usage.contains("(default 24h0m0s)"));
        assertTrue(usage.contains("\n  -volume value\n"));
        assertTrue(usage.contains("\n  -pid File\n"));
    }

    @Test
    void discoversKeepDirectoriesFromTheMountsTable() throws Exception {
        Path rw = dir("disk1");
        Files.createDirectories(rw.resolve("keep"));
        Path ro = dir("disk 2");
        Files.createDirectories(ro.resolve("keep"));
        Path nokeep = dir("disk3");
        Path proc = dir("proc");
        Files.createDirectories(proc.resolve("keep"));
        Path mounts = file("mounts", String.join("\n",
                "/dev/sda1 / ext4 rw,relatime 0 0",
                "/dev/sdb1 " + rw + " ext4 rw,relatime 0 0",
                "tmpfs " + ro.toString().replace(" ", "\\040") + " tmpfs ro,nosuid 0 0",
                "/dev/sdc1 " + nokeep + " ext4 rw 0 0",
                "proc " + proc + " proc rw 0 0", ""));
        ServerSettings s = new LegacyFlags().parse(List.of()).toSettings(mounts);
        assertEquals(2, s.volumes().size());
        assertEquals(rw.resolve("keep").toString(), s.volumes().get(0).parameters().get("Root"));
        assertTrue(s.volumes().get(0).writable());
        assertEquals(ro.resolve("keep").toString(), s.volumes().get(1).parameters().get("Root"));
        assertFalse(s.volumes().get(1).writable());

        Path empty = file("empty-mounts", "/dev/sda1 / ext4 rw 0 0\n");
        assertEquals("No volumes found.", assertThrows(StartupException.class,
                () -> new LegacyFlags().parse(List.of()).toSettings(empty)).getMessage());
    }
}
