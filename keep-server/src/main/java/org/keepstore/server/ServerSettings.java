package org.keepstore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

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
 */
public record ServerSettings(String listenHost, int listenPort, List<VolumeSpec> volumes,
                             boolean enforcePermissions, byte[] blobSigningKey, Duration blobSignatureTtl,
                             String adminToken, boolean trashEnabled, Duration trashLifetime,
                             Duration trashCheckInterval, int maxBuffers, int maxRequests, Path pidFile,
                             Path configFile) {
    public ServerSettings {
        volumes = List.copyOf(volumes);
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
                + " maxBuffers=" + maxBuffers + " maxRequests=" + maxRequests + "]";
    }
}
