package org.keepstore.server.flags;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.keepstore.core.GoDuration;
import org.keepstore.core.Locator;
import org.keepstore.core.Mount;
import org.keepstore.server.ServerSettings;
import org.keepstore.server.StartupException;
import org.keepstore.server.VolumeSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference keepstore's command line (SPEC §10), parsed with Go {@code flag} syntax into
 * {@link ServerSettings}. Parsing has two steps: {@link #parse} checks syntax and collects values
 * (errors exit 2, as Go's flag package does), then {@link #toSettings} reads key files, checks
 * volumes and resolves defaults (errors are startup errors).
 *
 * <p>Like the reference, volume flags take the settings in force when they appear: {@code -readonly}
 * and {@code -serialize} apply to the volume flags after them, and the {@code -s3-*} /
 * {@code -azure-*} settings to the bucket/container flags after them.
 */
public final class LegacyFlags {
    private static final Logger log = LoggerFactory.getLogger(LegacyFlags.class);

    /** The default listen address of the reference server. */
    public static final String DEFAULT_LISTEN = ":25107";
    static final int DEFAULT_MAX_BUFFERS = 128;
    static final long DEFAULT_TTL_SECONDS = 14L * 24 * 3600;

    /** A volume flag as given, with the order-sensitive settings of that moment. */
    private record PendingVolume(String driver, String name, boolean readonly, boolean serialize,
                                 Map<String, Object> parameters, Map<String, String> secretFiles, int replication) {
    }

    private final GoFlagSet flagSet = new GoFlagSet("keepstore");

    // Values collected while parsing.
    private String listen = DEFAULT_LISTEN;
    private boolean readonly;
    private boolean serialize;
    private boolean enforcePermissions;
    private String signingKeyFile = "";
    private long ttlSeconds = DEFAULT_TTL_SECONDS;
    private String adminTokenFile = "";
    private boolean neverDelete = true;
    private Duration trashLifetime = Duration.ZERO;
    private Duration trashCheckInterval = Duration.ofHours(24);
    private long maxBuffers = DEFAULT_MAX_BUFFERS;
    private long maxRequests = 0;
    private String pidFile = "";
    private String configFile = "";
    private final List<PendingVolume> volumes = new ArrayList<>();

    private String s3Endpoint = "";
    private String s3Region = "";
    private String s3AccessKeyFile = "";
    private String s3SecretKeyFile = "";
    private Duration s3RaceWindow = Duration.ofHours(24);
    private long s3Replication = 2;
    private boolean s3UnsafeDelete;
    private long s3PrefixLength = 0;
    private boolean s3UsePathStyle;

    private String azureAccountName = "";
    private String azureAccountKeyFile = "";
    private long azureReplication = 3;
    private long azureMaxGetBytes = Locator.MAX_BLOCK_SIZE;
    private String azureEndpoint = "";

    public LegacyFlags() {
        defineFlags();
    }

    private void defineFlags() {
        GoFlagSet f = flagSet;
        f.string("listen", DEFAULT_LISTEN,
                "Address to listen on, as \"host:port\" (e.g. 10.0.1.24:25107); leave out the host to listen on every interface.",
                v -> listen = v);
        // An empty value (or an empty item of a comma list) is not an absolute path: an error, as in
        // the reference, rather than silently falling back to discovering volumes.
        Consumer<String> addDirectories = v -> {
            for (String path : v.split(",", -1)) {
                addDirectoryVolume(path);
            }
        };
        f.value("volume",
                "A local directory to store blocks in. Repeat the flag for several directories. Without any volume flag,"
                        + " every directory named \"keep\" at the top of a mount point is used. A comma-separated list"
                        + " also works but is deprecated.",
                addDirectories::accept);
        f.value("volumes", "Deprecated synonym for -volume.", addDirectories::accept);
        f.bool("readonly", false, "Do not write, delete or touch anything on the volumes given after this flag.",
                v -> readonly = Boolean.parseBoolean(v));
        f.bool("serialize", false, "Do one read or write at a time on each of the volumes given after this flag.",
                v -> serialize = Boolean.parseBoolean(v));
        f.bool("enforce-permissions", false, "Require a valid permission signature on GET and HEAD requests.",
                v -> enforcePermissions = Boolean.parseBoolean(v));
        f.string("blob-signing-key-file", "",
                "File holding the secret key that signs and verifies block permission signatures.",
                v -> signingKeyFile = v);
        f.string("permission-key-file", "", "Synonym for -blob-signing-key-file.", v -> signingKeyFile = v);
        f.integer("blob-signature-ttl", DEFAULT_TTL_SECONDS,
                "Lifetime of permission signatures, in seconds. Changing it invalidates every signature already issued.",
                v -> ttlSeconds = positive(GoFlagSet.parseInt(v)));
        f.integer("permission-ttl", 0, "Synonym for -blob-signature-ttl.",
                v -> ttlSeconds = positive(GoFlagSet.parseInt(v)));
        f.string("data-manager-token-file", "",
                "File holding the token that admin requests (index, mounts, pull and trash lists, untrash, DELETE, TOUCH) must carry.",
                v -> adminTokenFile = v);
        f.bool("never-delete", true,
                "If true, never delete or trash any block. Leave it alone unless you can afford to lose data.",
                v -> neverDelete = Boolean.parseBoolean(v));
        f.duration("trash-lifetime", "0s",
                "How long a trashed block can still be restored with an untrash request; 0 deletes at once.",
                v -> trashLifetime = nonNegative(GoDuration.parse(v)));
        f.duration("trash-check-interval", "24h0m0s", "How often to delete trashed blocks whose lifetime has passed.",
                v -> trashCheckInterval = positive(GoDuration.parse(v)));
        f.integer("max-buffers", DEFAULT_MAX_BUFFERS,
                "Largest number of 64 MiB data buffers to use at once. Requests that need a buffer (GET, PUT)"
                        + " wait when all are taken.",
                v -> maxBuffers = positive(GoFlagSet.parseInt(v)));
        f.integer("max-requests", 0,
                "Largest number of requests in progress at once; more get 503 at once. Idle keep-alive connections"
                        + " do not count. (default 2 * max-buffers)",
                v -> maxRequests = nonNegative(GoFlagSet.parseInt(v)));
        f.string("pid", "",
                "`File` to write the process id to. It stays open with an exclusive lock until keepstore exits;"
                        + " if it cannot be created or locked, keepstore exits at once.",
                v -> pidFile = v);
        f.string("config", "", "`File` with an Arvados cluster config (YAML) to take the settings from.",
                v -> configFile = v);

        f.value("s3-bucket-volume", "Use this S3 bucket as a volume. Repeat the flag for several buckets.",
                this::addS3Volume);
        f.string("s3-endpoint", "",
                "Endpoint URL for the -s3-bucket-volume flags that follow; empty = the AWS endpoint of -s3-region.",
                v -> s3Endpoint = v);
        f.string("s3-region", "", "AWS region for the -s3-bucket-volume flags that follow.", v -> s3Region = v);
        f.string("s3-access-key-file", "",
                "`File` holding the access key for the -s3-bucket-volume flags that follow.", v -> s3AccessKeyFile = v);
        f.string("s3-secret-key-file", "",
                "`File` holding the secret key for the -s3-bucket-volume flags that follow.", v -> s3SecretKeyFile = v);
        f.duration("s3-race-window", "24h0m0s", "Longest delay the object store may take to become consistent.",
                v -> s3RaceWindow = nonNegative(GoDuration.parse(v)));
        f.integer("s3-replication", 2, "Replication a copy in the S3 buckets that follow counts for.",
                v -> s3Replication = replication(GoFlagSet.parseInt(v)));
        f.bool("s3-unsafe-delete", false,
                "Allow deleting blocks from S3 buckets even though races can lose data.",
                v -> s3UnsafeDelete = Boolean.parseBoolean(v));
        f.integer("s3-prefix-length", 0,
                "Store objects as HASH[0:N]/HASH in the S3 buckets that follow (0 = plain HASH).",
                v -> s3PrefixLength = nonNegative(GoFlagSet.parseInt(v)));
        f.bool("s3-use-path-style", false, "Address the S3 buckets that follow with path-style URLs.",
                v -> s3UsePathStyle = Boolean.parseBoolean(v));

        f.value("azure-storage-container-volume",
                "Use this Azure blob container as a volume. Repeat the flag for several containers.",
                this::addAzureVolume);
        f.string("azure-storage-account-name", "",
                "Azure storage account for the -azure-storage-container-volume flags that follow.",
                v -> azureAccountName = v);
        f.string("azure-storage-account-key-file", "",
                "`File` holding the account key for the -azure-storage-container-volume flags that follow.",
                v -> azureAccountKeyFile = v);
        f.integer("azure-storage-replication", 3, "Replication a copy in the Azure containers that follow counts for.",
                v -> azureReplication = replication(GoFlagSet.parseInt(v)));
        f.integer("azure-max-get-bytes", Locator.MAX_BLOCK_SIZE,
                "Largest range to fetch in one request; smaller values read a block with several range requests, one after another.",
                v -> azureMaxGetBytes = positive(GoFlagSet.parseInt(v)));
        f.string("azure-endpoint", "",
                "Blob service URL for the containers that follow (emulators, sovereign clouds); empty = the public Azure endpoint.",
                v -> azureEndpoint = v);
    }

    private static long positive(long v) {
        if (v <= 0) {
            throw new IllegalArgumentException("must be positive");
        }
        return v;
    }

    /** A replication count: positive, and small enough that it is not silently wrapped when stored as an int. */
    private static long replication(long v) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("value out of range");
        }
        return positive(v);
    }

    private static long nonNegative(long v) {
        if (v < 0) {
            throw new IllegalArgumentException("must not be negative");
        }
        return v;
    }

    private static Duration positive(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("must be positive");
        }
        return d;
    }

    private static Duration nonNegative(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("must not be negative");
        }
        return d;
    }

    private void addDirectoryVolume(String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("volume path must be absolute");
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("Root", path);
        parameters.put("Serialize", serialize);
        volumes.add(new PendingVolume("Directory", path, readonly, serialize, parameters, Map.of(), 1));
    }

    private void addS3Volume(String bucket) {
        if (bucket.isEmpty()) {
            throw new IllegalArgumentException("bucket name must not be empty");
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("Bucket", bucket);
        if (!s3Endpoint.isEmpty()) {
            parameters.put("Endpoint", s3Endpoint);
        }
        if (!s3Region.isEmpty()) {
            parameters.put("Region", s3Region);
        }
        parameters.put("UnsafeDelete", s3UnsafeDelete);
        parameters.put("RaceWindow", GoDuration.format(s3RaceWindow));
        parameters.put("PrefixLength", s3PrefixLength);
        parameters.put("UsePathStyle", s3UsePathStyle);
        Map<String, String> secrets = new LinkedHashMap<>();
        if (!s3AccessKeyFile.isEmpty()) {
            secrets.put("AccessKeyID", s3AccessKeyFile);
        }
        if (!s3SecretKeyFile.isEmpty()) {
            secrets.put("SecretAccessKey", s3SecretKeyFile);
        }
        volumes.add(new PendingVolume("S3", bucket, readonly, serialize, parameters, secrets, (int) s3Replication));
    }

    private void addAzureVolume(String container) {
        if (container.isEmpty()) {
            throw new IllegalArgumentException("container name must not be empty");
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("ContainerName", container);
        if (!azureAccountName.isEmpty()) {
            parameters.put("StorageAccountName", azureAccountName);
        }
        parameters.put("MaxGetBytes", azureMaxGetBytes);
        if (!azureEndpoint.isEmpty()) {
            parameters.put("Endpoint", azureEndpoint);
        }
        Map<String, String> secrets = new LinkedHashMap<>();
        if (!azureAccountKeyFile.isEmpty()) {
            secrets.put("StorageAccountKey", azureAccountKeyFile);
        }
        volumes.add(new PendingVolume("Azure", container, readonly, serialize, parameters, secrets,
                (int) azureReplication));
    }

    /**
     * The names (without the dash) of the flags the command line gave, so that settings a
     * {@code -config} file also covers are overridden only by flags the operator actually wrote.
     */
    public Set<String> givenFlags() {
        return flagSet.given();
    }

    /** Go-style usage text ({@code Usage of keepstore:} and one entry per flag). */
    public String usage() {
        return flagSet.usage();
    }

    /** Parses the command line; syntax and value errors are {@link FlagException}s. */
    public LegacyFlags parse(List<String> args) throws FlagException {
        List<String> rest = flagSet.parse(args);
        if (!rest.isEmpty()) {
            throw new FlagException(FlagException.Kind.INVALID_VALUE,
                    "unexpected argument \"" + rest.get(0) + "\": keepstore takes only flags");
        }
        return this;
    }

    /**
     * Reads key files, checks volumes and resolves defaults.
     *
     * @param mountsFile where to discover {@code keep} directories when no volume flag was given
     */
    public ServerSettings toSettings(Path mountsFile) throws StartupException {
        String host;
        int port;
        int colon = listen.lastIndexOf(':');
        if (colon < 0) {
            throw new StartupException("-listen \"" + listen + "\": expected host:port, e.g. :25107");
        }
        host = listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new StartupException("-listen \"" + listen + "\": invalid port");
        }

        byte[] signingKey = null;
        if (!signingKeyFile.isEmpty()) {
            signingKey = readSecretFile("-blob-signing-key-file", signingKeyFile).getBytes(StandardCharsets.UTF_8);
            if (signingKey.length == 0) {
                throw new StartupException("-blob-signing-key-file " + signingKeyFile + ": the file is empty");
            }
        }
        if (enforcePermissions && signingKey == null) {
            throw new StartupException("-enforce-permissions needs a signing key: give -blob-signing-key-file");
        }
        String adminToken = null;
        if (!adminTokenFile.isEmpty()) {
            adminToken = readSecretFile("-data-manager-token-file", adminTokenFile);
            if (adminToken.isEmpty()) {
                throw new StartupException("-data-manager-token-file " + adminTokenFile + ": the file is empty");
            }
        }
        if (maxBuffers > 1_000_000) {
            throw new StartupException("-max-buffers " + maxBuffers + " is too large");
        }
        long requests = maxRequests == 0 ? 2 * maxBuffers : maxRequests;
        if (requests < maxBuffers && configFile.isEmpty()) { // with -config, its loader says so
            log.warn("-max-requests {} is lower than -max-buffers {}: the buffers beyond it are never used",
                    requests, maxBuffers);
        }

        List<VolumeSpec> specs = new ArrayList<>();
        // A mount's UUID comes from its volume's identity alone, never from the other volumes
        // given, so it is the same on every start and when volumes are added or removed: a
        // directory's path; a cloud volume's driver, endpoint or account, and bucket or container
        // (so one name on two endpoints, or a bucket and a container, are told apart).
        List<String> locations = new ArrayList<>(volumes.size());
        for (PendingVolume v : volumes) {
            String location = location(v);
            // The same volume twice would be one mount counted twice.
            if (locations.contains(location)) {
                throw new StartupException("volume " + v.name() + " is given more than once");
            }
            locations.add(location);
            specs.add(toSpec(v, Mount.uuidFor(v.driver().equals("Directory") ? identityName(v) : location)));
        }
        if (volumes.isEmpty() && configFile.isEmpty()) {
            // With -config the volumes come from the cluster config, so nothing is discovered.
            List<MountsFileDiscovery.KeepDirectory> found = MountsFileDiscovery.discover(mountsFile);
            if (found.isEmpty()) {
                throw new StartupException("No volumes found.");
            }
            for (MountsFileDiscovery.KeepDirectory dir : found) {
                Map<String, Object> parameters = new LinkedHashMap<>();
                parameters.put("Root", dir.path().toString());
                parameters.put("Serialize", serialize);
                boolean writable = !readonly && !dir.readOnly();
                if (writable && !Files.isWritable(dir.path())) {
                    // Found, not named by the operator: serve what can be served rather than refuse.
                    log.warn("{}: this user cannot write to it; serving it read-only", dir.path());
                    writable = false;
                }
                specs.add(toSpec(new PendingVolume("Directory", dir.path().toString(), !writable,
                        serialize, parameters, Map.of(), 1), Mount.uuidFor(dir.path().toString())));
            }
        }
        return new ServerSettings(host, port, specs, enforcePermissions, signingKey, Duration.ofSeconds(ttlSeconds),
                adminToken, !neverDelete, trashLifetime, trashCheckInterval, (int) maxBuffers,
                (int) Math.min(requests, Integer.MAX_VALUE), pidFile.isEmpty() ? null : path("-pid", pidFile),
                configFile.isEmpty() ? null : path("-config", configFile));
    }

    /** A flag's value as a path; a value no path can have (e.g. with a NUL byte) is a startup error. */
    private static Path path(String flag, String value) throws StartupException {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new StartupException(flag + ": not a valid path (" + e.getReason() + ")");
        }
    }

    /** A directory volume's path as its UUID is made from: with extra slashes removed. */
    private static String identityName(PendingVolume v) throws StartupException {
        return v.driver().equals("Directory") ? path("-volume", v.name()).toString() : v.name();
    }

    /**
     * Where a volume is, telling it apart from every other: a directory as the file system
     * resolves it (so a trailing slash, "." or a symlink does not make a second volume of it);
     * the endpoint or account and the bucket or container of a cloud volume.
     */
    private static String location(PendingVolume v) throws StartupException {
        return switch (v.driver()) {
            case "Directory" -> {
                try {
                    yield "directory:" + path("-volume", v.name()).toRealPath();
                } catch (IOException e) {
                    throw new StartupException("-volume " + v.name() + ": no such directory");
                }
            }
            case "S3" -> "s3:" + endpoint(v) + "/" + v.name();
            default -> "azure:" + endpoint(v) + "/" + v.parameters().getOrDefault("StorageAccountName", "")
                    + "/" + v.name();
        };
    }

    /** A cloud volume's endpoint as given, without trailing slashes ("" for the service's default). */
    private static String endpoint(PendingVolume v) {
        return String.valueOf(v.parameters().getOrDefault("Endpoint", "")).replaceAll("/+$", "");
    }

    private VolumeSpec toSpec(PendingVolume v, String uuid) throws StartupException {
        Map<String, Object> parameters = new LinkedHashMap<>(v.parameters());
        if (v.driver().equals("Directory")) {
            Path root = path("-volume", v.name());
            if (!Files.isDirectory(root)) {
                throw new StartupException("-volume " + v.name() + (Files.exists(root) ? ": not a directory"
                        : ": no such directory"));
            }
        }
        for (Map.Entry<String, String> secret : v.secretFiles().entrySet()) {
            String flag = switch (secret.getKey()) {
                case "AccessKeyID" -> "-s3-access-key-file";
                case "SecretAccessKey" -> "-s3-secret-key-file";
                default -> "-azure-storage-account-key-file";
            };
            parameters.put(secret.getKey(), readSecretFile(flag, secret.getValue()));
        }
        return new VolumeSpec(v.driver(), parameters, uuid, v.name(), !v.readonly(), v.replication());
    }

    /** Reads a key or token file once, trimmed; warns when others may read it. */
    private static String readSecretFile(String flag, String file) throws StartupException {
        Path path = path(flag, file);
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new StartupException(flag + " " + file + ": cannot read the file (" + describe(e) + ")");
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("{} {} can be read by other users; restrict it with chmod 600", flag, file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Not a POSIX file system: nothing to warn about.
        }
        return text;
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
