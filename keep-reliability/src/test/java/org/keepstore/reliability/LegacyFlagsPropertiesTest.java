package org.keepstore.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.keepstore.server.ServerSettings;
import org.keepstore.server.StartupException;
import org.keepstore.server.flags.FlagException;
import org.keepstore.server.flags.LegacyFlags;

/**
 * Hostile command lines: parsing throws nothing but {@link FlagException}, and turning the parsed
 * flags into settings nothing but {@link StartupException} - never a stack trace for an operator.
 */
class LegacyFlagsPropertiesTest {
    private static final List<String> NAMES = List.of("listen", "volume", "volumes", "readonly", "serialize",
            "enforce-permissions", "blob-signing-key-file", "permission-key-file", "blob-signature-ttl",
            "permission-ttl", "data-manager-token-file", "never-delete", "trash-lifetime", "trash-check-interval",
            "max-buffers", "max-requests", "pid", "config", "s3-bucket-volume", "s3-endpoint", "s3-region",
            "s3-access-key-file", "s3-secret-key-file", "s3-replication", "s3-unsafe-delete",
            "azure-storage-container-volume", "azure-storage-account-name", "azure-storage-account-key-file",
            "azure-storage-replication", "azure-max-get-bytes", "h", "help", "nope", "", "-", "=");

    private static Path dir;
    private static Path mounts;

    @BeforeContainer
    static void files() throws Exception {
        dir = Files.createTempDirectory("flags-properties");
        Files.createDirectories(dir.resolve("vol"));
        Files.writeString(dir.resolve("key"), "a-key\n");
        Files.writeString(dir.resolve("empty"), "");
        mounts = Files.writeString(dir.resolve("mounts"), "tmpfs " + dir + " tmpfs rw 0 0\n");
    }

    @AfterContainer
    static void cleanUp() throws Exception {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Property(tries = 3000)
    void onlyFlagOrStartupExceptions(@ForAll("commandLines") List<String> args) {
        LegacyFlags flags = new LegacyFlags();
        try {
            flags.parse(args);
        } catch (FlagException e) {
            assert e.kind() != null;
            return;
        }
        try {
            ServerSettings settings = flags.toSettings(mounts);
            assert settings != null;
        } catch (StartupException e) {
            assert e.getMessage() != null && !e.getMessage().isBlank();
        }
    }

    @Property(tries = 2000)
    void arbitraryStringsAreOnlyFlagExceptions(@ForAll("noise") List<String> args) {
        try {
            new LegacyFlags().parse(args);
        } catch (FlagException e) {
            assert e.getMessage() != null;
        }
    }

    @Provide
    Arbitrary<List<String>> commandLines() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("", "0", "-1", "1", "2", "64", "99999999999999999999", "true", "false", "TRUE", "t", "1h",
                        "-1h", "1.5h", "0s", "24h", "abc", ":25107", "127.0.0.1:0", "[::1]:0", "host:port", ":-1",
                        ":99999", "a,b", "relative/dir", "/nonexistent/dir", "\u00e9", " ", "=", "--"),
                Arbitraries.of(dir.resolve("vol").toString(), dir.resolve("key").toString(),
                        dir.resolve("empty").toString(), dir.toString(), dir.resolve("vol") + "," + dir,
                        dir.resolve("missing").toString()),
                Arbitraries.strings().ofMaxLength(12));
        Arbitrary<String> arg = Combinators.combine(Arbitraries.of("-", "--", "---", ""), Arbitraries.of(NAMES),
                Arbitraries.of("=", " ", ""), value).as((dash, name, sep, v) -> switch (sep) {
                    case "=" -> dash + name + "=" + v;
                    case " " -> dash + name + "\u0000" + v; // split below into two arguments
                    default -> dash + name;
                });
        return arg.list().ofMaxSize(8).map(list -> list.stream()
                .flatMap(a -> java.util.Arrays.stream(a.split("\u0000", 2))).toList());
    }

    @Provide
    Arbitrary<List<String>> noise() {
        return Arbitraries.strings().ofMaxLength(30).list().ofMaxSize(6);
    }
}
