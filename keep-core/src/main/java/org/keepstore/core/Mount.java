package org.keepstore.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;

/**
 * A volume as configured on this server (SPEC §1): its UUID, access, replication and storage
 * classes.
 *
 * @param uuid           {@code zzzzz-nyw5e-} + 15 chars; used for rendezvous ordering
 * @param volume         the backend
 * @param allowWrite     false for read-only mounts
 * @param allowTrash     whether trashing and emptying trash may run here (writable mounts, or
 *                       read-only ones with {@code AllowTrashWhenReadOnly}); untrash, a write,
 *                       runs only on writable mounts, as in the reference
 * @param replication    how many replicas a copy here counts for (default 1)
 * @param storageClasses the classes this mount offers (default {@code default})
 * @param priority       the highest priority among its storage classes; reads visit higher
 *                       priorities first
 */
public record Mount(String uuid, Volume volume, boolean allowWrite, boolean allowTrash, int replication,
                    Set<String> storageClasses, int priority) {

    public static final String UUID_PREFIX = "zzzzz-nyw5e-";

    public Mount {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(volume, "volume");
        if (replication < 1) {
            throw new IllegalArgumentException("replication must be at least 1");
        }
        storageClasses = Set.copyOf(storageClasses);
        if (storageClasses.isEmpty()) {
            throw new IllegalArgumentException("a mount needs at least one storage class");
        }
    }

    /** A writable, trashable mount with replication 1 in the {@code default} class. */
    public static Mount of(String uuid, Volume volume) {
        return new Mount(uuid, volume, true, true, 1, Set.of("default"), 0);
    }

    /**
     * A stable mount UUID for a volume configured without one (legacy flags): {@code zzzzz-nyw5e-}
     * followed by the first 15 hex digits of the MD5 of the volume's identity (its path, bucket or
     * container), so it is the same on every start.
     */
    public static String uuidFor(String identity) {
        try {
            byte[] md5 = MessageDigest.getInstance("MD5").digest(identity.getBytes(StandardCharsets.UTF_8));
            return UUID_PREFIX + HexFormat.of().formatHex(md5).substring(0, 15);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The volume's device id. */
    public String deviceId() {
        return volume.deviceId();
    }
}
