package org.keepstore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeMetrics;
import org.keepstore.server.flags.LegacyFlags;

/**
 * Volume UUIDs from the cluster config place blocks exactly as SPEC §4 says (and so as the
 * reference places them for the same config): the expected order is computed here from the
 * spec's words alone, without the engine's code.
 */
class RendezvousOrderTest {
    @TempDir
    Path tmp;

    /** A volume of the test config and the priority its classes give it. */
    private record Expected(String uuid, int priority) {
    }

    /**
     * SPEC §4: priority descending, then {@code md5hex(hash + S)} ascending, S = the UUID without
     * its first 12 characters when it is 27 characters long, else the whole UUID.
     */
    private static List<String> specOrder(String hash, List<Expected> volumes) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        Map<String, String> weight = new LinkedHashMap<>();
        for (Expected v : volumes) {
            String s = v.uuid().length() == 27 ? v.uuid().substring(12) : v.uuid();
            weight.put(v.uuid(), HexFormat.of().formatHex(md5.digest((hash + s).getBytes(StandardCharsets.US_ASCII))));
        }
        List<Expected> sorted = new ArrayList<>(volumes);
        sorted.sort(Comparator.comparing((Expected v) -> -v.priority()).thenComparing(v -> weight.get(v.uuid())));
        return sorted.stream().map(Expected::uuid).toList();
    }

    private static String randomHash(Random random) {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private ServerSettings load(Path config) throws Exception {
        LegacyFlags flags = new LegacyFlags().parse(ConfigFixtures.args(config));
        return new ClusterConfigLoader(Map.of()).load(config, flags.toSettings(tmp.resolve("no-mounts")),
                flags.givenFlags());
    }

    @Test
    void serverVisitsMountsInTheSpecsOrderFor1000RandomHashes() throws Exception {
        List<Expected> expected = List.of(
                new Expected("zzzzz-nyw5e-000000000000000", 0),
                new Expected("zzzzz-nyw5e-111111111111111", 0),
                new Expected("zzzzz-nyw5e-abcdefghijklmno", 5),
                new Expected("zzzzz-nyw5e-pqrstuvwxyz0123", 5),
                new Expected("zzzzz-nyw5e-z9y8x7w6v5u4t3s", 20),
                new Expected("zzzzz-nyw5e-readonly0000001", 0),
                new Expected("short-uuid-volume", 0));
        StringBuilder volumes = new StringBuilder();
        String[] classes = {"{default: true}", "{}", "{fast: true}", "{fast: true, default: true}",
                "{archive: true, fast: true}", "{default: true}", "{}"};
        for (int i = 0; i < expected.size(); i++) {
            Path root = Files.createDirectories(tmp.resolve("vol" + i));
            volumes.append("      ").append(expected.get(i).uuid()).append(":\n")
                    .append("        StorageClasses: ").append(classes[i]).append("\n")
                    .append(i == 5 ? "        ReadOnly: true\n" : "")
                    .append("        Driver: Directory\n        DriverParameters: {Root: ").append(root).append("}\n");
        }
        Path config = ConfigFixtures.write(tmp, "rendezvous.yml", """
                Clusters:
                  zzzzz:
                    Services:
                      Keepstore:
                        InternalURLs: {"http://127.0.0.1:25107": {}}
                    Collections: {BlobSigning: false}
                    StorageClasses:
                      default: {Default: true, Priority: 0}
                      fast: {Priority: 5}
                      archive: {Priority: 20}
                    Volumes:
                """ + volumes);
        ServerSettings settings = load(config);

        // The mounts exactly as the server builds them from these settings.
        VolumeContext context = new VolumeContext(Clock.systemUTC(), settings.trashLifetime(),
                settings.blobSignatureTtl(), VolumeMetrics.NONE);
        List<Mount> mounts = new ArrayList<>();
        for (VolumeSpec spec : settings.volumes()) {
            mounts.add(Main.mount(spec, context));
        }
        try (KeepStore store = new KeepStore(mounts, new BufferPool(1), new KeepStore.Options(Clock.systemUTC(),
                settings.blobSignatureTtl(), settings.trashEnabled(), settings.defaultStorageClasses()))) {
            Random random = new Random(20261125);
            int differentFromPlainHashOrder = 0;
            for (int i = 0; i < 1000; i++) {
                String hash = randomHash(random);
                List<String> actual = store.rendezvousOrder(hash).stream().map(Mount::uuid).toList();
                List<String> spec = specOrder(hash, expected);
                assertEquals(spec, actual, "hash " + hash);
                if (!spec.equals(specOrder(hash, expected.stream().map(v -> new Expected(v.uuid(), 0)).toList()))) {
                    differentFromPlainHashOrder++;
                }
            }
            assertTrue(differentFromPlainHashOrder > 900, "priorities matter for almost every hash");
        }
    }

    @Test
    void unclassifiedPutsLandOnTheFirstWritableMountOfTheSpecsOrder() throws Exception {
        List<Expected> expected = new ArrayList<>();
        StringBuilder volumes = new StringBuilder();
        Map<String, Path> roots = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            String uuid = "zzzzz-nyw5e-" + String.format("%015d", i * 7919L);
            Path root = Files.createDirectories(tmp.resolve("put" + i));
            roots.put(uuid, root);
            expected.add(new Expected(uuid, 0));
            volumes.append("      ").append(uuid).append(":\n")
                    .append("        Driver: Directory\n        DriverParameters: {Root: ").append(root).append("}\n");
        }
        int port = ServerProcess.freePort();
        Path config = ConfigFixtures.write(tmp, "placement.yml", """
                Clusters:
                  zzzzz:
                    Services:
                      Keepstore:
                        InternalURLs: {"http://127.0.0.1:%d": {}}
                    API: {MaxKeepBlobBuffers: 4}
                    Collections: {BlobSigning: false}
                    Volumes:
                """.formatted(port) + volumes);
        try (InJvmKeepstore keepstore = InJvmKeepstore.start(ConfigFixtures.args(config))) {
            TestHttp http = keepstore.awaitHealthy(port, null);
            Map<String, Integer> perVolume = new LinkedHashMap<>();
            for (int i = 0; i < 200; i++) {
                byte[] data = TestHttp.randomBlock(64, 5000 + i);
                String hash = TestHttp.md5(data);
                assertEquals(200, http.put("/" + hash, data).status());
                String first = specOrder(hash, expected).get(0);
                for (Map.Entry<String, Path> e : roots.entrySet()) {
                    assertEquals(e.getKey().equals(first), DirectoryCopies.holds(e.getValue(), hash),
                            "block " + hash + " on " + e.getKey());
                }
                perVolume.merge(first, 1, Integer::sum);
            }
            assertEquals(4, perVolume.size(), "every volume gets blocks: " + perVolume);
            assertEquals(0, keepstore.stop());
        }
    }
}
