package org.keepstore.server;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A volume to mount, before it is created: which driver, its {@code DriverParameters} (with the
 * cluster config's key names, so flags and config produce the same thing) and how this server
 * mounts it.
 *
 * @param driver         the {@link org.keepstore.core.VolumeDriver} name ({@code Directory}, {@code S3}, {@code Azure})
 * @param parameters     the driver parameters; may hold secrets, so never log them
 * @param uuid           the mount UUID
 * @param label          what to call the volume in logs (a path, bucket or container; never a secret)
 * @param writable       false for {@code -readonly} volumes
 * @param allowTrash     whether trash/untrash/empty-trash may run here
 * @param replication    how many replicas a copy on this mount counts for
 * @param storageClasses the classes this mount offers
 * @param priority       read priority (highest first), from the storage classes' priorities
 */
public record VolumeSpec(String driver, Map<String, Object> parameters, String uuid, String label,
                         boolean writable, boolean allowTrash, int replication, Set<String> storageClasses,
                         int priority) {
    public VolumeSpec {
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(uuid, "uuid");
        parameters = Map.copyOf(parameters);
        storageClasses = Set.copyOf(storageClasses);
    }

    /** A volume from the legacy flags: class {@code default}, priority 0, trashable when writable. */
    public VolumeSpec(String driver, Map<String, Object> parameters, String uuid, String label, boolean writable,
                      int replication) {
        this(driver, parameters, uuid, label, writable, writable, replication, Set.of("default"), 0);
    }

    @Override
    public String toString() {
        // Parameters may contain keys: keep them out of any accidental log line.
        return "VolumeSpec[" + driver + " " + label + " uuid=" + uuid + " writable=" + writable
                + " replication=" + replication + " classes=" + storageClasses + "]";
    }
}
