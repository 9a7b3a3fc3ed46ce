package org.keepstore.server.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The parts of an Arvados cluster config ({@code /etc/arvados/config.yml}) that a keepstore
 * uses, for one cluster, with the reference's defaults filled in. Read by
 * {@link ClusterConfigReader}; which of it applies to this server (its URL, its volumes) is
 * decided by {@link org.keepstore.server.ClusterConfigLoader}.
 *
 * @param clusterId       the 5-character key under {@code Clusters}
 * @param systemRootToken {@code SystemRootToken}: the admin token; empty = none
 * @param managementToken {@code ManagementToken}: guards health and metrics; empty = none
 * @param internalUrls    {@code Services.Keepstore.InternalURLs}, in file order
 * @param collections     the {@code Collections} settings a keepstore reads
 * @param maxKeepBlobBuffers    {@code API.MaxKeepBlobBuffers}
 * @param maxConcurrentRequests {@code API.MaxConcurrentRequests} (0 = not set)
 * @param storageClasses  {@code StorageClasses} by name; when the config has none, the
 *                        reference's implicit {@code default} class (default, priority 0)
 * @param volumes         {@code Volumes} by UUID, in file order
 * @param warnings        what was read but deserves the operator's attention (unknown keys, …)
 */
public record ClusterConfig(String clusterId, String systemRootToken, String managementToken,
                            List<InternalUrl> internalUrls, Collections collections, int maxKeepBlobBuffers,
                            int maxConcurrentRequests, Map<String, StorageClass> storageClasses,
                            Map<String, Volume> volumes, List<String> warnings) {

    public ClusterConfig {
        internalUrls = List.copyOf(internalUrls);
        storageClasses = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(storageClasses));
        volumes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(volumes));
        warnings = List.copyOf(warnings);
    }

    /**
     * One entry of {@code Services.Keepstore.InternalURLs}.
     *
     * @param url       the key: how other services reach this keepstore
     * @param listenUrl its {@code ListenURL}, or null to listen on {@code url} itself
     */
    public record InternalUrl(ServiceUrl url, ServiceUrl listenUrl) {
        public InternalUrl {
            Objects.requireNonNull(url, "url");
        }

        /** Where to bind: {@code ListenURL} if given, else the URL. */
        public ServiceUrl bindUrl() {
            return listenUrl != null ? listenUrl : url;
        }
    }

    /**
     * The {@code Collections} keys of a keepstore.
     *
     * @param blobSigning          {@code BlobSigning}: verify signatures on reads (default true)
     * @param blobSigningKey       {@code BlobSigningKey}; empty = none
     * @param blobSigningTtl       {@code BlobSigningTTL} (default 336h)
     * @param blobTrash            {@code BlobTrash}: honour trash requests (default true)
     * @param blobTrashLifetime    {@code BlobTrashLifetime} (default 336h)
     * @param blobTrashCheckInterval {@code BlobTrashCheckInterval} (default 24h; 0 = never empty trash)
     * @param trashConcurrency     {@code BlobTrashConcurrency} (default 4)
     * @param deleteConcurrency    {@code BlobDeleteConcurrency} (default 4; 0 = never empty trash)
     * @param replicateConcurrency {@code BlobReplicateConcurrency} (default 1)
     */
    public record Collections(boolean blobSigning, String blobSigningKey, Duration blobSigningTtl,
                              boolean blobTrash, Duration blobTrashLifetime, Duration blobTrashCheckInterval,
                              int trashConcurrency, int deleteConcurrency, int replicateConcurrency) {
        @Override
        public String toString() {
            return "Collections[blobSigning=" + blobSigning + " key=" + (blobSigningKey.isEmpty() ? "none" : "set")
                    + " ttl=" + blobSigningTtl + " blobTrash=" + blobTrash + "]";
        }
    }

    /**
     * One entry of {@code StorageClasses}.
     *
     * @param isDefault {@code Default}: written when a client names no class
     * @param priority  {@code Priority}: mounts of higher-priority classes are read first
     */
    public record StorageClass(boolean isDefault, int priority) {
    }

    /**
     * One entry of {@code Volumes}.
     *
     * @param uuid             the key, used as the mount UUID (and so for rendezvous order)
     * @param accessViaHosts   {@code AccessViaHosts}: the keepstores that mount it, with their
     *                         per-host {@code ReadOnly}; empty = every keepstore
     * @param readOnly         {@code ReadOnly}
     * @param allowTrashWhenReadOnly {@code AllowTrashWhenReadOnly}
     * @param replication      {@code Replication} (default 1)
     * @param storageClasses   the classes set to true in {@code StorageClasses}; {@code default}
     *                         when none is
     * @param storageClassesGiven whether the volume listed any class itself (the reference
     *                         computes a mount's priority from those only)
     * @param driver           {@code Driver}; empty when missing
     * @param driverParameters {@code DriverParameters}, passed to the driver as they are
     */
    public record Volume(String uuid, Map<ServiceUrl, Boolean> accessViaHosts, boolean readOnly,
                         boolean allowTrashWhenReadOnly, int replication, Set<String> storageClasses,
                         boolean storageClassesGiven, String driver, Map<String, Object> driverParameters) {
        public Volume {
            accessViaHosts = Map.copyOf(accessViaHosts);
            storageClasses = Set.copyOf(storageClasses);
            driverParameters = Map.copyOf(driverParameters);
        }

        @Override
        public String toString() {
            // DriverParameters may hold keys: never part of a log line.
            return "Volume[" + uuid + " " + driver + " readOnly=" + readOnly + " classes=" + storageClasses + "]";
        }
    }

    @Override
    public String toString() {
        return "ClusterConfig[" + clusterId + " internalUrls=" + internalUrls + " volumes=" + volumes.keySet() + "]";
    }
}
