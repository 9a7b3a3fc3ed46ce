package org.keepstore.server.config;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads an Arvados cluster config (YAML, as in the reference's {@code config.default.yml}) into a
 * {@link ClusterConfig}: the keys a keepstore uses, typed and defaulted like the reference does.
 * Keys that Arvados defines for other services are skipped quietly; keys nobody defines (usually
 * typos) become warnings naming their path. Invalid values are {@link ConfigException}s.
 */
public final class ClusterConfigReader {
    private static final Pattern CLUSTER_ID = Pattern.compile("[a-z0-9]{5}");
    private static final Pattern VOLUME_UUID = Pattern.compile("[a-z0-9]{5}-nyw5e-[a-z0-9]{15}");

    static final Duration DEFAULT_TTL = Duration.ofHours(336);
    static final Duration DEFAULT_TRASH_LIFETIME = Duration.ofHours(336);
    static final Duration DEFAULT_TRASH_CHECK_INTERVAL = Duration.ofHours(24);
    static final int DEFAULT_MAX_KEEP_BLOB_BUFFERS = 128;
    static final int DEFAULT_CONCURRENCY = 4;
    /** Pull-list items fetched at once unless configured: one, as issue 4 asks (the reference says 4). */
    static final int DEFAULT_REPLICATE_CONCURRENCY = 1;
    /** The same sanity bound as {@code -max-buffers}. */
    static final int MAX_BUFFERS_LIMIT = 1_000_000;

    // What this reader uses, and what the reference defines for other services (not warned about).
    private static final Set<String> CLUSTER_USED = Set.of("SystemRootToken", "ManagementToken", "Services", "API",
            "Collections", "StorageClasses", "Volumes");
    private static final Set<String> CLUSTER_OTHER = Set.of("PostgreSQL", "Users", "AuditLogs", "SystemLogs",
            "Login", "Git", "TLS", "Containers", "RemoteClusters", "Workbench", "Mail", "InstanceTypes",
            "ForceLegacyAPI14", "Limits", "SourceTimestamp", "SourceSHA256");
    private static final Set<String> SERVICES = Set.of("RailsAPI", "Controller", "Websocket", "Keepbalance",
            "GitHTTP", "GitSSH", "DispatchCloud", "DispatchLSF", "DispatchSLURM", "SSO", "Keepproxy", "WebDAV",
            "WebDAVDownload", "Keepstore", "Composer", "WebShell", "Workbench1", "Workbench2", "Nodemanager",
            "Health", "ContainerWebServices");
    private static final Set<String> API_USED = Set.of("MaxKeepBlobBuffers", "MaxConcurrentRequests");
    private static final Set<String> API_OTHER = Set.of("MaxRequestSize", "MaxIndexDatabaseRead",
            "MaxItemsPerResponse", "MaxQueuedRequests", "MaxQueueTimeForLockRequests", "MaxGatewayTunnels",
            "MaxConcurrentRailsRequests", "LogCreateRequestFraction", "DisabledAPIs",
            "AsyncPermissionsUpdateInterval", "MaxRequestAmplification", "RailsSessionSecretToken",
            "RequestTimeout", "SendTimeout", "WebsocketClientEventQueue", "WebsocketServerEventQueue",
            "KeepServiceRequestTimeout", "VocabularyPath", "FreezeProjectRequiresDescription",
            "FreezeProjectRequiresProperties", "UnfreezeProjectRequiresAdmin", "LockBeforeUpdate");
    private static final Set<String> COLLECTIONS_USED = Set.of("BlobSigning", "BlobSigningKey", "BlobSigningTTL",
            "BlobTrash", "BlobTrashLifetime", "BlobTrashCheckInterval", "BlobTrashConcurrency",
            "BlobDeleteConcurrency", "BlobReplicateConcurrency");
    private static final Set<String> COLLECTIONS_OTHER = Set.of("DefaultReplication", "BlobMissingReport",
            "BalancePeriod", "BalanceCollectionBatch", "BalanceCollectionBuffers", "BalanceTimeout",
            "BalanceUpdateLimit", "BalancePullLimit", "BalanceTrashLimit", "DefaultTrashLifetime",
            "TrashSweepInterval", "CollectionVersioning", "PreserveVersionIfIdle", "ForwardSlashNameSubstitution",
            "ManagedProperties", "TrustAllContent", "WebDAVCache", "KeepproxyPermission", "WebDAVPermission",
            "WebDAVLogEvents", "WebDAVLogDownloadInterval", "WebDAVOutputBuffer", "S3FolderObjects");
    private static final Set<String> VOLUME_KEYS = Set.of("AccessViaHosts", "ReadOnly", "AllowTrashWhenReadOnly",
            "Replication", "StorageClasses", "Driver", "DriverParameters");
    /**
     * Every parameter some volume driver reads, for whichever driver. As in the reference, a
     * key is only warned about when no driver knows it, which catches typos ({@code Serialise}).
     */
    private static final Set<String> DRIVER_PARAMETERS_USED = Set.of("Root", "Serialize", "DirectIO",
            "Bucket", "Endpoint", "Region", "AccessKeyID", "SecretAccessKey", "UsePathStyle", "PrefixLength",
            "IndexPageSize", "ConnectTimeout", "ReadTimeout", "RaceWindow", "UnsafeDelete",
            "StorageAccountName", "StorageAccountKey", "StorageBaseURL", "ContainerName", "RequestTimeout",
            "ListBlobsRetryDelay", "ListBlobsMaxAttempts", "MaxGetBytes", "WriteRaceInterval", "WriteRacePollTime",
            "DeviceID", "CapacityBytes");
    /** The reference's S3 parameters that change nothing here. */
    private static final Set<String> DRIVER_PARAMETERS_OTHER = Set.of("LocationConstraint", "V2Signature");

    private ClusterConfigReader() {
    }

    /**
     * Parses {@code yaml}.
     *
     * @throws ConfigException for YAML syntax errors, no cluster or several, and values of the
     *                         wrong type or form
     */
    public static ClusterConfig read(String yaml) throws ConfigException {
        YAMLMapper mapper = new YAMLMapper();
        // Two entries with the same key (two volumes with one UUID) is an error, not "last one wins".
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonNode tree;
        try {
            tree = mapper.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException("not valid YAML: " + e.getOriginalMessage().replaceAll("\\s+", " ").trim()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new ConfigException("cannot parse: " + e.getMessage());
        }
        List<String> warnings = new ArrayList<>();
        ConfigNode root = new ConfigNode(tree, "", warnings);
        if (root.isAbsent()) {
            throw new ConfigException("the file is empty: expected Clusters.<cluster id>");
        }
        root.warnUnknownKeys(Set.of("Clusters"), Set.of());
        Map<String, ConfigNode> clusters = root.child("Clusters").entries();
        if (clusters.isEmpty()) {
            throw new ConfigException("Clusters: no cluster configured (expected Clusters.<cluster id>)");
        }
        if (clusters.size() > 1) {
            throw new ConfigException("Clusters: " + clusters.size() + " clusters configured ("
                    + String.join(", ", clusters.keySet()) + "); a keepstore serves exactly one");
        }
        Map.Entry<String, ConfigNode> only = clusters.entrySet().iterator().next();
        String clusterId = only.getKey();
        if (!CLUSTER_ID.matcher(clusterId).matches()) {
            throw new ConfigException("Clusters." + clusterId + ": a cluster id is 5 characters a-z, 0-9");
        }
        return readCluster(clusterId, only.getValue(), warnings);
    }

    private static ClusterConfig readCluster(String clusterId, ConfigNode cluster, List<String> warnings)
            throws ConfigException {
        cluster.warnUnknownKeys(CLUSTER_USED, CLUSTER_OTHER);

        ConfigNode services = cluster.child("Services");
        services.warnUnknownKeys(SERVICES, Set.of());
        ConfigNode keepstore = services.child("Keepstore");
        keepstore.warnUnknownKeys(Set.of("InternalURLs"), Set.of("ExternalURL"));
        List<ClusterConfig.InternalUrl> internalUrls = new ArrayList<>();
        for (Map.Entry<String, ConfigNode> e : keepstore.child("InternalURLs").entries().entrySet()) {
            ConfigNode entry = e.getValue();
            ServiceUrl url = ServiceUrl.parse(e.getKey(), entry.path());
            entry.warnUnknownKeys(Set.of("ListenURL"), Set.of("Rendezvous"));
            String listen = entry.child("ListenURL").string("");
            ServiceUrl listenUrl = listen.isEmpty() ? null : ServiceUrl.parse(listen, entry.child("ListenURL").path());
            if (internalUrls.stream().anyMatch(u -> u.url().equals(url))) {
                throw new ConfigException(entry.path() + ": the same URL is listed twice");
            }
            internalUrls.add(new ClusterConfig.InternalUrl(url, listenUrl));
        }

        ConfigNode api = cluster.child("API");
        api.warnUnknownKeys(API_USED, API_OTHER);
        int maxBuffers = api.child("MaxKeepBlobBuffers").integer(DEFAULT_MAX_KEEP_BLOB_BUFFERS);
        if (maxBuffers <= 0) {
            throw new ConfigException(api.child("MaxKeepBlobBuffers").path() + ": must be greater than zero");
        }
        if (maxBuffers > MAX_BUFFERS_LIMIT) {
            throw new ConfigException(api.child("MaxKeepBlobBuffers").path() + ": " + maxBuffers
                    + " buffers of 64 MiB is more memory than any machine has");
        }
        int maxRequests = api.child("MaxConcurrentRequests").integer(0);
        if (maxRequests < 0) {
            throw new ConfigException(api.child("MaxConcurrentRequests").path() + ": must not be negative");
        }

        ClusterConfig.Collections collections = readCollections(cluster.child("Collections"));
        Map<String, ClusterConfig.StorageClass> classes = readStorageClasses(cluster.child("StorageClasses"));
        Map<String, ClusterConfig.Volume> volumes = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : cluster.child("Volumes").entries().entrySet()) {
            volumes.put(e.getKey(), readVolume(e.getKey(), e.getValue()));
        }
        checkClassesAgainstVolumes(cluster, classes, volumes);
        checkAccessViaHosts(cluster, internalUrls, volumes);

        return new ClusterConfig(clusterId, cluster.child("SystemRootToken").string(""),
                cluster.child("ManagementToken").string(""), internalUrls, collections, maxBuffers, maxRequests,
                classes, volumes, warnings);
    }

    private static ClusterConfig.Collections readCollections(ConfigNode c) throws ConfigException {
        c.warnUnknownKeys(COLLECTIONS_USED, COLLECTIONS_OTHER);
        Duration ttl = c.child("BlobSigningTTL").duration(DEFAULT_TTL);
        if (ttl.isNegative() || ttl.isZero()) {
            throw new ConfigException(c.child("BlobSigningTTL").path() + ": must be greater than zero");
        }
        Duration lifetime = c.child("BlobTrashLifetime").duration(DEFAULT_TRASH_LIFETIME);
        if (lifetime.isNegative()) {
            throw new ConfigException(c.child("BlobTrashLifetime").path() + ": must not be negative");
        }
        return new ClusterConfig.Collections(
                c.child("BlobSigning").bool(true),
                c.child("BlobSigningKey").string(""),
                ttl,
                c.child("BlobTrash").bool(true),
                lifetime,
                c.child("BlobTrashCheckInterval").duration(DEFAULT_TRASH_CHECK_INTERVAL),
                concurrency(c.child("BlobTrashConcurrency")),
                concurrency(c.child("BlobDeleteConcurrency")),
                concurrency(c.child("BlobReplicateConcurrency"), DEFAULT_REPLICATE_CONCURRENCY));
    }

    private static int concurrency(ConfigNode n) throws ConfigException {
        return concurrency(n, DEFAULT_CONCURRENCY);
    }

    private static int concurrency(ConfigNode n, int defaultValue) throws ConfigException {
        int value = n.integer(defaultValue);
        if (value < 0) {
            throw new ConfigException(n.path() + ": must not be negative (0 disables it)");
        }
        return value;
    }

    /**
     * Without a {@code StorageClasses} section every volume is in the implicit {@code default}
     * class; with one, at least one class must be a default, as the reference requires.
     */
    private static Map<String, ClusterConfig.StorageClass> readStorageClasses(ConfigNode section)
            throws ConfigException {
        Map<String, ClusterConfig.StorageClass> classes = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : section.entries().entrySet()) {
            ConfigNode c = e.getValue();
            c.warnUnknownKeys(Set.of("Default", "Priority"), Set.of());
            classes.put(e.getKey(), new ClusterConfig.StorageClass(c.child("Default").bool(false),
                    c.child("Priority").integer(0)));
        }
        if (classes.isEmpty()) {
            classes.put("default", new ClusterConfig.StorageClass(true, 0));
        } else if (classes.values().stream().noneMatch(ClusterConfig.StorageClass::isDefault)) {
            throw new ConfigException(section.path() + ": no class has Default: true (at least one must,"
                    + " so that writes which name no class have somewhere to go)");
        }
        return classes;
    }

    private static ClusterConfig.Volume readVolume(String uuid, ConfigNode v) throws ConfigException {
        if (!VOLUME_UUID.matcher(uuid).matches()) {
            v.warn(v.path() + ": \"" + uuid + "\" is not a volume UUID of the form zzzzz-nyw5e-"
                    + "xxxxxxxxxxxxxxx; it is used as the mount UUID as it is");
        }
        v.warnUnknownKeys(VOLUME_KEYS, Set.of());
        Map<ServiceUrl, Boolean> access = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : v.child("AccessViaHosts").entries().entrySet()) {
            ConfigNode host = e.getValue();
            host.warnUnknownKeys(Set.of("ReadOnly"), Set.of());
            access.put(ServiceUrl.parse(e.getKey(), host.path()), host.child("ReadOnly").bool(false));
        }
        int replication = v.child("Replication").integer(1);
        if (replication < 0) {
            throw new ConfigException(v.child("Replication").path() + ": must not be negative");
        }
        Set<String> classes = new TreeSet<>();
        Map<String, ConfigNode> listed = v.child("StorageClasses").entries();
        for (Map.Entry<String, ConfigNode> e : listed.entrySet()) {
            if (e.getValue().bool(false)) {
                classes.add(e.getKey());
            }
        }
        boolean given = !classes.isEmpty();
        if (!given) {
            classes.add("default");
        }
        ConfigNode parameters = v.child("DriverParameters");
        Object plain = parameters.isAbsent() ? Map.of() : parameters.plainValue();
        if (!(plain instanceof Map<?, ?> map)) {
            throw new ConfigException(parameters.path() + ": expected a map of parameter names to values");
        }
        parameters.warnUnknownKeys(DRIVER_PARAMETERS_USED, DRIVER_PARAMETERS_OTHER);
        @SuppressWarnings("unchecked")
        Map<String, Object> driverParameters = (Map<String, Object>) map;
        return new ClusterConfig.Volume(uuid, access, v.child("ReadOnly").bool(false),
                v.child("AllowTrashWhenReadOnly").bool(false), Math.max(1, replication), classes, given,
                v.child("Driver").string("").trim(), driverParameters);
    }

    /**
     * Warns about a volume in a class {@code StorageClasses} does not define, and a class no
     * volume offers. The reference warns about the second but refuses to start on the first (and
     * on a volume listing no class while others do); this server starts, in case such a
     * configuration is already in use, and says what it does instead: an undefined class has
     * priority 0 and is not a default, and a volume listing none is in {@code default}.
     */
    private static void checkClassesAgainstVolumes(ConfigNode cluster, Map<String, ClusterConfig.StorageClass> classes,
                                                   Map<String, ClusterConfig.Volume> volumes) {
        Set<String> offered = new TreeSet<>();
        for (ClusterConfig.Volume v : volumes.values()) {
            offered.addAll(v.storageClasses());
            for (String c : v.storageClasses()) {
                if (!classes.containsKey(c)) {
                    cluster.warn(cluster.child("Volumes").child(v.uuid()).child("StorageClasses").path()
                            + ": class \"" + c
                            + "\" is not defined in StorageClasses (it has priority 0 and is not a default)");
                }
            }
        }
        if (!volumes.isEmpty()) {
            for (String c : classes.keySet()) {
                if (!offered.contains(c)) {
                    cluster.warn(cluster.child("StorageClasses").child(c).path() + ": no volume offers this class");
                }
            }
        }
    }

    /**
     * Warns, as the reference does, about an {@code AccessViaHosts} entry that names no listed
     * keepstore: a typo there leaves the volume mounted nowhere.
     */
    private static void checkAccessViaHosts(ConfigNode cluster, List<ClusterConfig.InternalUrl> keepstores,
                                                      Map<String, ClusterConfig.Volume> volumes) {
        Set<ServiceUrl> listed = new HashSet<>();
        keepstores.forEach(k -> listed.add(k.url()));
        for (ClusterConfig.Volume v : volumes.values()) {
            for (ServiceUrl host : v.accessViaHosts().keySet()) {
                if (!listed.contains(host)) {
                    cluster.warn(cluster.child("Volumes").child(v.uuid()).child("AccessViaHosts").path() + ": " + host
                            + " is not a keepstore listed in Services.Keepstore.InternalURLs");
                }
            }
        }
    }
}
