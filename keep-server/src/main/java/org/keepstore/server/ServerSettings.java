package org.keepstore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything the server needs to start, whether it came from the legacy command line
 * ({@link org.keepstore.server.flags.LegacyFlags}) or from a cluster config file
 * ({@link ClusterConfigLoader}). Secrets are already read from their files.
 *
 * @param listenHost         address to bind; empty = all interfaces
 * @param listenPort         TCP port (0 = any free port)
 * @param volumes            the volumes to mount, in order
 * @param enforcePermissions verify signatures on GET/HEAD
 * @param blobSigningKey     HMAC key, or null when none is configured
 * @param blobSignatureTtl   lifetime of signatures; blocks younger than this are never trashed
 * @param adminToken         the data-manager token for admin endpoints, or null (then they refuse everyone)
 * @param trashEnabled       false = {@code -never-delete}
 * @param trashLifetime      how long trashed blocks stay recoverable
 * @param trashCheckInterval how often expired trash is emptied
 * @param maxBuffers         number of 64 MiB block buffers
 * @param maxRequests        requests in flight before 503 (already resolved from 0 = 2 × maxBuffers)
 * @param pidFile            where to write the pid, or null
 * @param configFile         the {@code -config} file, or null
 * @param managementToken    the token {@code /metrics} and {@code /_health/ping} require, or null (open to anyone)
 * @param defaultStorageClasses the classes a PUT without {@code X-Keep-Storage-Classes} targets; empty = any mount
 * @param workerConcurrency  how many trash, delete and pull (replicate) operations may run at once
 */
public record ServerSettings(String listenHost, int listenPort, List<VolumeSpec> volumes,
                             boolean enforcePermissions, byte[] blobSigningKey, Duration blobSignatureTtl,
                             String adminToken, boolean trashEnabled, Duration trashLifetime,
                             Duration trashCheckInterval, int maxBuffers, int maxRequests, Path pidFile,
                             Path configFile, String managementToken, Set<String> defaultStorageClasses,
                             WorkerConcurrency workerConcurrency) {
    public ServerSettings {
        volumes = List.copyOf(volumes);
        defaultStorageClasses = Set.copyOf(defaultStorageClasses);
        Objects.requireNonNull(workerConcurrency, "workerConcurrency");
    }

    /** Settings as the legacy flags give them: no management token, any mount for unclassified writes. */
    public ServerSettings(String listenHost, int listenPort, List<VolumeSpec> volumes,
                          boolean enforcePermissions, byte[] blobSigningKey, Duration blobSignatureTtl,
                          String adminToken, boolean trashEnabled, Duration trashLifetime,
                          Duration trashCheckInterval, int maxBuffers, int maxRequests, Path pidFile,
                          Path configFile) {
        this(listenHost, listenPort, volumes, enforcePermissions, blobSigningKey, blobSignatureTtl, adminToken,
                trashEnabled, trashLifetime, trashCheckInterval, maxBuffers, maxRequests, pidFile, configFile,
                null, Set.of(), WorkerConcurrency.DEFAULTS);
    }

    /**
     * Limits of the background work (the cluster config's {@code Collections.BlobTrashConcurrency},
     * {@code BlobDeleteConcurrency}, {@code BlobReplicateConcurrency}). A delete concurrency of 0
     * disables the trash emptier; trash and pull lists are always worked by at least one thread,
     * as in the reference.
     *
     * @param trash     trash-list items applied at once
     * @param delete    expired-trash deletions at once (0 = the trash emptier does not run)
     * @param replicate pull-list items fetched at once
     */
    public record WorkerConcurrency(int trash, int delete, int replicate) {
        /**
         * The defaults, also used in flag mode: the reference's 4 for trash and delete, and one
         * pull worker (issue 4; the reference's config default is 4).
         */
        public static final WorkerConcurrency DEFAULTS = new WorkerConcurrency(4, 4, 1);

        public WorkerConcurrency {
            if (trash < 0 || delete < 0 || replicate < 0) {
                throw new IllegalArgumentException("concurrency must not be negative");
            }
        }
    }

    /** The listen address as given to logs, e.g. {@code :25107}. */
    public String listenAddress() {
        String host = listenHost.contains(":") ? "[" + listenHost + "]" : listenHost;
        return host + ":" + listenPort;
    }

    @Override
    public String toString() {
        return "ServerSettings[listen=" + listenAddress() + " volumes=" + volumes + " enforcePermissions="
                + enforcePermissions + " signingKey=" + (blobSigningKey == null ? "none" : "set")
                + " adminToken=" + (adminToken == null ? "none" : "set") + " trashEnabled=" + trashEnabled
                + " maxBuffers=" + maxBuffers + " maxRequests=" + maxRequests
                + " managementToken=" + (managementToken == null ? "none" : "set")
                + " defaultStorageClasses=" + defaultStorageClasses + " " + workerConcurrency + "]";
    }
}
