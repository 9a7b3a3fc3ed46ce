package org.keepstore.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.keepstore.core.GoDuration;
import org.keepstore.server.config.ClusterConfig;
import org.keepstore.server.config.ClusterConfigReader;
import org.keepstore.server.config.ConfigException;
import org.keepstore.server.config.ServiceUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where an Arvados cluster config ({@code -config FILE}) becomes
 * {@link ServerSettings}: it reads the file ({@link ClusterConfigReader}), decides which of the
 * cluster's keepstores this server is, mounts the volumes that belong to it, and lets flags
 * given next to {@code -config} override what the file says (logging each override).
 *
 * <p><b>Which keepstore is this?</b> The server's own URL selects its volumes (a volume whose
 * {@code AccessViaHosts} is empty belongs to every keepstore; otherwise to the keepstores it
 * lists) and its listen address (the URL's {@code ListenURL}, or the URL itself). It is, in order:
 * <ol>
 *   <li>the {@code ARVADOS_SERVICE_INTERNAL_URL} environment variable, as for the reference;</li>
 *   <li>the only entry of {@code Services.Keepstore.InternalURLs}, if there is one;</li>
 *   <li>otherwise the one entry whose port is that of {@code -listen} (when given and some entry
 *       has that port) and, if that still leaves several, whose host name (or non-wildcard
 *       {@code ListenURL}) resolves to an address of this machine.</li>
 * </ol>
 * Anything else (none or several left) is a startup error that lists the candidates.
 */
public final class ClusterConfigLoader {
    /** The environment variable that names this server's InternalURL (the reference reads it too). */
    public static final String INTERNAL_URL_ENV = "ARVADOS_SERVICE_INTERNAL_URL";

    private static final Logger log = LoggerFactory.getLogger(ClusterConfigLoader.class);
    private static final Set<String> VOLUME_FLAGS = Set.of("volume", "volumes", "s3-bucket-volume",
            "azure-storage-container-volume");
    /** Flags that only shape volumes given by flags. */
    private static final Set<String> VOLUME_MODIFIER_PREFIXES = Set.of("readonly", "serialize", "s3-", "azure-");

    /** Stands in for a disabled check interval; nothing is scheduled with it (delete concurrency is 0). */
    private static final Duration UNUSED_CHECK_INTERVAL = Duration.ofHours(24);

    private final Map<String, String> environment;
    private final Predicate<String> isThisHost;
    private final Supplier<InputStream> standardInput;
    private final List<String> warnings = new ArrayList<>();

    /** A loader that looks up this machine's addresses through the network interfaces. */
    public ClusterConfigLoader(Map<String, String> environment) {
        this(environment, ClusterConfigLoader::isAddressOfThisHost, () -> System.in);
    }

    /**
     * @param environment   the process environment (for {@value #INTERNAL_URL_ENV})
     * @param isThisHost    whether a host name or address belongs to this machine
     * @param standardInput where {@code -config -} reads the config from
     */
    ClusterConfigLoader(Map<String, String> environment, Predicate<String> isThisHost,
                        Supplier<InputStream> standardInput) {
        this.environment = Objects.requireNonNull(environment);
        this.isThisHost = Objects.requireNonNull(isThisHost);
        this.standardInput = Objects.requireNonNull(standardInput);
    }

    /** The warnings of the last {@link #load} (also logged), e.g. unknown keys. */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /**
     * Settings from {@code configFile}.
     *
     * @param fromFlags  what the command line said (including defaults of flags not given)
     * @param givenFlags names of the flags actually given; these override the file
     * @throws StartupException with one line naming the file and the offending key
     */
    public ServerSettings load(Path configFile, ServerSettings fromFlags, Set<String> givenFlags)
            throws StartupException {
        warnings.clear();
        String where = "-config " + configFile;
        String text;
        boolean fromStandardInput = configFile.toString().equals("-");
        try {
            // "-config -" reads the config from standard input, as the reference allows.
            text = fromStandardInput ? new String(standardInput.get().readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(configFile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new StartupException(where + ": no such file");
        } catch (AccessDeniedException e) {
            throw new StartupException(where + ": permission denied");
        } catch (IOException e) {
            throw new StartupException(where + ": cannot read the file (" + e + ")");
        }
        try {
            ClusterConfig config = ClusterConfigReader.read(text);
            for (String warning : config.warnings()) {
                warn(where + ": " + warning);
            }
            if (!fromStandardInput) {
                warnIfSecretsAreWorldReadable(configFile, config, where);
            }
            return settings(config, fromFlags, givenFlags, where);
        } catch (ConfigException e) {
            throw new StartupException(where + ": " + e.getMessage());
        }
    }

    /** The file holds the cluster's keys and tokens: say so if every user can read it. */
    private void warnIfSecretsAreWorldReadable(Path configFile, ClusterConfig config, String where) {
        boolean hasSecrets = !config.systemRootToken().isEmpty() || !config.managementToken().isEmpty()
                || !config.collections().blobSigningKey().isEmpty();
        try {
            if (hasSecrets && Files.getPosixFilePermissions(configFile).contains(PosixFilePermission.OTHERS_READ)) {
                warn(where + ": every user can read this file, which holds the cluster's keys and tokens;"
                        + " restrict it (e.g. chmod 640, readable by the keepstore's group)");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Permissions unknown here: nothing to say.
        }
    }

    private void warn(String message) {
        warnings.add(message);
        log.warn(message);
    }

    private ServerSettings settings(ClusterConfig config, ServerSettings fromFlags, Set<String> given, String where)
            throws ConfigException {
        String prefix = "Clusters." + config.clusterId() + ".";
        boolean listenGiven = given.contains("listen");
        ThisServer self = thisServer(config, prefix, listenGiven ? fromFlags : null);

        List<VolumeSpec> volumes = volumesOf(config, self.url(), prefix);
        if (given.stream().anyMatch(VOLUME_FLAGS::contains)) {
            log.info("volume flags given: they replace the {} volume(s) the config assigns to this server",
                    volumes.size());
            volumes = fromFlags.volumes();
        } else {
            for (String flag : new TreeSet<>(given)) {
                if (VOLUME_MODIFIER_PREFIXES.stream().anyMatch(flag::startsWith)) {
                    warn("-" + flag + " has no effect: it applies to volumes given by flags, and the volumes"
                            + " come from the config");
                }
            }
        }
        if (volumes.isEmpty()) {
            throw new ConfigException(prefix + "Volumes: no volume belongs to this server ("
                    + (self.url() == null ? "no InternalURL" : self.url()) + "): a volume belongs to it when its"
                    + " AccessViaHosts lists this URL or is empty");
        }
        warnAboutOtherKeepstoresWithoutVolumes(config, self.url(), prefix);

        ClusterConfig.Collections c = config.collections();
        String listenHost = self.bindHost();
        int listenPort = self.bindPort();
        if (listenGiven) {
            log.info("-listen {} overrides the listen address {}", fromFlags.listenAddress(),
                    self.bindHost() + ":" + self.bindPort());
            listenHost = fromFlags.listenHost();
            listenPort = fromFlags.listenPort();
        }
        boolean enforce = c.blobSigning();
        if (given.contains("enforce-permissions")) {
            log.info("-enforce-permissions={} overrides Collections.BlobSigning ({})", fromFlags.enforcePermissions(),
                    enforce);
            enforce = fromFlags.enforcePermissions();
        }
        byte[] key = c.blobSigningKey().isEmpty() ? null : c.blobSigningKey().getBytes(StandardCharsets.UTF_8);
        if (given.contains("blob-signing-key-file") || given.contains("permission-key-file")) {
            log.info("-blob-signing-key-file overrides Collections.BlobSigningKey");
            key = fromFlags.blobSigningKey();
        }
        if (enforce && key == null) {
            throw new ConfigException(prefix + "Collections.BlobSigning is true but " + prefix
                    + "Collections.BlobSigningKey is empty: set the key (the same on every keepstore and the API"
                    + " server), or BlobSigning: false");
        }
        Duration ttl = c.blobSigningTtl();
        if (given.contains("blob-signature-ttl") || given.contains("permission-ttl")) {
            log.info("-blob-signature-ttl {} overrides Collections.BlobSigningTTL ({})",
                    fromFlags.blobSignatureTtl().toSeconds(), GoDuration.format(ttl));
            ttl = fromFlags.blobSignatureTtl();
        }
        String adminToken = config.systemRootToken().isEmpty() ? null : config.systemRootToken();
        if (given.contains("data-manager-token-file")) {
            log.info("-data-manager-token-file overrides SystemRootToken");
            adminToken = fromFlags.adminToken();
        }
        boolean trashEnabled = c.blobTrash();
        if (given.contains("never-delete")) {
            log.info("-never-delete={} overrides Collections.BlobTrash ({})", !fromFlags.trashEnabled(), trashEnabled);
            trashEnabled = fromFlags.trashEnabled();
        }
        Duration trashLifetime = c.blobTrashLifetime();
        if (given.contains("trash-lifetime")) {
            log.info("-trash-lifetime {} overrides Collections.BlobTrashLifetime ({})",
                    GoDuration.format(fromFlags.trashLifetime()), GoDuration.format(trashLifetime));
            trashLifetime = fromFlags.trashLifetime();
        }
        Duration checkInterval = c.blobTrashCheckInterval();
        int deleteConcurrency = c.deleteConcurrency();
        if (given.contains("trash-check-interval")) {
            log.info("-trash-check-interval {} overrides Collections.BlobTrashCheckInterval ({})",
                    GoDuration.format(fromFlags.trashCheckInterval()), GoDuration.format(checkInterval));
            checkInterval = fromFlags.trashCheckInterval();
        }
        if (checkInterval.isZero() || checkInterval.isNegative()) {
            // As for the reference: no positive interval = expired trash is never emptied here.
            log.info("Collections.BlobTrashCheckInterval is {}: expired trash will not be emptied",
                    GoDuration.format(checkInterval));
            checkInterval = UNUSED_CHECK_INTERVAL;
            deleteConcurrency = 0;
        }
        int maxBuffers = config.maxKeepBlobBuffers();
        if (given.contains("max-buffers")) {
            log.info("-max-buffers {} overrides API.MaxKeepBlobBuffers ({})", fromFlags.maxBuffers(), maxBuffers);
            maxBuffers = fromFlags.maxBuffers();
        }
        int maxRequests = config.maxConcurrentRequests() > 0 ? config.maxConcurrentRequests() : 2 * maxBuffers;
        if (given.contains("max-requests")) {
            log.info("-max-requests {} overrides API.MaxConcurrentRequests ({})", fromFlags.maxRequests(),
                    config.maxConcurrentRequests());
            maxRequests = fromFlags.maxRequests();
        }
        if (maxRequests < maxBuffers) {
            warn(where + ": API.MaxConcurrentRequests (" + maxRequests + ") is lower than API.MaxKeepBlobBuffers ("
                    + maxBuffers + "): the buffers beyond it are never used");
        }
        if (fromFlags.pidFile() != null) {
            log.info("-pid {}: writing the process id there (the config has no equivalent)", fromFlags.pidFile());
        }
        Set<String> defaultClasses = config.storageClasses().entrySet().stream()
                .filter(e -> e.getValue().isDefault()).map(Map.Entry::getKey)
                .collect(Collectors.toCollection(TreeSet::new));
        ServerSettings.WorkerConcurrency workers = new ServerSettings.WorkerConcurrency(c.trashConcurrency(),
                deleteConcurrency, c.replicateConcurrency());

        String identity = self.url() == null ? "not in Services.Keepstore.InternalURLs"
                : self.url() + " (" + self.how() + ")";
        log.info("{}: cluster {}, this server is {}; {} volume(s); default storage classes {}", where,
                config.clusterId(), identity, volumes.size(), String.join(",", defaultClasses));
        return new ServerSettings(listenHost, listenPort, volumes, enforce, key, ttl, adminToken, trashEnabled,
                trashLifetime, checkInterval, maxBuffers, maxRequests, fromFlags.pidFile(), fromFlags.configFile(),
                config.managementToken().isEmpty() ? null : config.managementToken(), defaultClasses, workers);
    }

    // ---------------------------------------------------------------- which keepstore this is

    /**
     * This server's identity in the cluster.
     *
     * @param url      its InternalURL, or null when it has none (only {@code -listen} was given)
     * @param bindHost where to listen (empty = every interface)
     * @param bindPort the port to listen on
     * @param how      how the URL was chosen, for the log
     */
    private record ThisServer(ServiceUrl url, String bindHost, int bindPort, String how) {
    }

    private ThisServer thisServer(ClusterConfig config, String prefix, ServerSettings listenFlag)
            throws ConfigException {
        List<ClusterConfig.InternalUrl> urls = config.internalUrls();
        String key = prefix + "Services.Keepstore.InternalURLs";
        String fromEnv = environment.getOrDefault(INTERNAL_URL_ENV, "").trim();
        if (!fromEnv.isEmpty()) {
            ServiceUrl url = ServiceUrl.parse(fromEnv, "$" + INTERNAL_URL_ENV);
            ClusterConfig.InternalUrl listed = urls.stream().filter(u -> u.url().equals(url)).findFirst()
                    .orElse(null);
            if (listed == null) {
                warn("$" + INTERNAL_URL_ENV + " " + url + " is not listed in " + key);
                listed = new ClusterConfig.InternalUrl(url, null);
            }
            return identity(listed, "from $" + INTERNAL_URL_ENV);
        }
        if (urls.size() == 1) {
            return identity(urls.get(0), "the only entry of " + key);
        }
        if (urls.isEmpty()) {
            if (listenFlag != null) {
                warn(key + " is empty: this server mounts only volumes whose AccessViaHosts is empty");
                return new ThisServer(null, listenFlag.listenHost(), listenFlag.listenPort(), "-listen");
            }
            throw new ConfigException(key + " is empty: list this server's URL there, e.g."
                    + " \"http://keep0.example:25107\": {}");
        }
        List<ClusterConfig.InternalUrl> candidates = urls;
        String because = "";
        if (listenFlag != null) {
            List<ClusterConfig.InternalUrl> samePort = candidates.stream()
                    .filter(u -> u.bindUrl().port() == listenFlag.listenPort()).toList();
            // A -listen port that no entry has only moves the listener; it does not say who we are.
            if (!samePort.isEmpty()) {
                candidates = samePort;
                because = "with the port of -listen ";
            }
        }
        if (candidates.size() > 1) {
            candidates = candidates.stream().filter(this::isThisMachine).toList();
            because += "whose host is this machine";
        }
        if (candidates.size() == 1) {
            return identity(candidates.get(0), "the entry of " + key + " " + because);
        }
        String fix = "; say which one this server is with " + INTERNAL_URL_ENV + "=URL in its environment"
                + (listenFlag == null ? " or with -listen=:PORT" : "");
        if (candidates.isEmpty()) {
            throw new ConfigException("none of " + key + " (" + describe(urls) + ") is an address of this machine"
                    + fix);
        }
        throw new ConfigException("several of " + key + " are addresses of this machine (" + describe(candidates)
                + ")" + fix);
    }

    /**
     * Whether an InternalURL is this machine's: its host resolves to one of our addresses, or its
     * {@code ListenURL} names one (a wildcard {@code ListenURL} such as 0.0.0.0 says nothing).
     */
    private boolean isThisMachine(ClusterConfig.InternalUrl u) {
        if (isThisHost.test(u.url().host())) {
            return true;
        }
        ServiceUrl listen = u.listenUrl();
        return listen != null && !listen.host().equals("0.0.0.0") && !listen.host().equals("::")
                && isThisHost.test(listen.host());
    }

    private static ThisServer identity(ClusterConfig.InternalUrl entry, String how) {
        ServiceUrl bind = entry.bindUrl();
        return new ThisServer(entry.url(), bind.host(), bind.port(), how);
    }

    private static String describe(List<ClusterConfig.InternalUrl> urls) {
        return urls.stream().map(u -> u.url().toString()).collect(Collectors.joining(", "));
    }

    /** Whether {@code host} resolves to an address of one of this machine's network interfaces. */
    static boolean isAddressOfThisHost(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (address.isAnyLocalAddress() || address.isLoopbackAddress()
                        || NetworkInterface.getByInetAddress(address) != null) {
                    return true;
                }
            }
        } catch (IOException e) {
            // Unknown host or no interface information: not ours.
        }
        return false;
    }

    // ---------------------------------------------------------------- volumes

    /**
     * Warns, as the reference does, about a listed keepstore that no volume is reachable from
     * (this server's own case is the error above).
     */
    private void warnAboutOtherKeepstoresWithoutVolumes(ClusterConfig config, ServiceUrl self, String prefix) {
        if (config.volumes().values().stream().anyMatch(v -> v.accessViaHosts().isEmpty())) {
            return; // that volume is every keepstore's
        }
        for (ClusterConfig.InternalUrl keepstore : config.internalUrls()) {
            ServiceUrl url = keepstore.url();
            if (!url.equals(self) && config.volumes().values().stream().noneMatch(v -> v.accessViaHosts().containsKey(url))) {
                warn(prefix + "Services.Keepstore.InternalURLs: " + url + " has no volume (no volume's AccessViaHosts"
                        + " names it)");
            }
        }
    }

    /**
     * The volumes this server mounts, sorted by UUID (as the reference lists them): those whose
     * {@code AccessViaHosts} is empty or names {@code self}.
     */
    private List<VolumeSpec> volumesOf(ClusterConfig config, ServiceUrl self, String prefix) throws ConfigException {
        List<ClusterConfig.Volume> all = new ArrayList<>(config.volumes().values());
        all.sort(Comparator.comparing(ClusterConfig.Volume::uuid));
        List<VolumeSpec> specs = new ArrayList<>();
        for (ClusterConfig.Volume v : all) {
            boolean hostReadOnly;
            if (v.accessViaHosts().isEmpty()) {
                hostReadOnly = false;
            } else if (self != null && v.accessViaHosts().containsKey(self)) {
                hostReadOnly = v.accessViaHosts().get(self);
            } else {
                continue;
            }
            String key = prefix + "Volumes." + v.uuid();
            if (v.driver().isEmpty()) {
                throw new ConfigException(key + ".Driver is missing (Directory, S3 or Azure)");
            }
            if (v.driver().equals("Directory") && v.driverParameters().getOrDefault("Root", "").toString().isBlank()) {
                throw new ConfigException(key + ".DriverParameters.Root is missing: the Directory driver needs the"
                        + " directory to store blocks in");
            }
            boolean writable = !v.readOnly() && !hostReadOnly;
            boolean allowTrash = !hostReadOnly && (!v.readOnly() || v.allowTrashWhenReadOnly());
            specs.add(new VolumeSpec(v.driver(), v.driverParameters(), v.uuid(), label(v), writable, allowTrash,
                    v.replication(), v.storageClasses(), priority(v, config.storageClasses())));
        }
        return specs;
    }

    /**
     * The highest priority among the classes the volume lists itself, never below 0. Like the
     * reference, a volume that lists none (implicitly {@code default}) has priority 0 whatever the
     * {@code default} class says, so reads visit mounts in the reference's order.
     */
    static int priority(ClusterConfig.Volume v, Map<String, ClusterConfig.StorageClass> classes) {
        int priority = 0;
        if (v.storageClassesGiven()) {
            for (String c : v.storageClasses()) {
                ClusterConfig.StorageClass sc = classes.get(c);
                if (sc != null && sc.priority() > priority) {
                    priority = sc.priority();
                }
            }
        }
        return priority;
    }

    /** What to call the volume in logs: its directory, bucket or container (never a secret). */
    private static String label(ClusterConfig.Volume v) {
        String name = switch (v.driver()) {
            case "Directory" -> String.valueOf(v.driverParameters().getOrDefault("Root", ""));
            case "S3" -> String.valueOf(v.driverParameters().getOrDefault("Bucket", ""));
            case "Azure" -> String.valueOf(v.driverParameters().getOrDefault("ContainerName", ""));
            default -> "";
        };
        return name.isEmpty() ? v.uuid() : name;
    }
}
