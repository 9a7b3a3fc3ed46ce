package org.keepstore.core;

import java.io.IOException;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * A factory of volumes of one kind, found with {@link ServiceLoader} by its driver name — the
 * {@code Driver} value of an Arvados cluster config volume ({@code Directory}, {@code S3},
 * {@code Azure}). Register an implementation in
 * {@code META-INF/services/org.keepstore.core.VolumeDriver}.
 */
public interface VolumeDriver {

    /** The driver name, as in the cluster config's {@code Driver} field. */
    String name();

    /**
     * Creates a volume.
     *
     * @param parameters the volume's {@code DriverParameters}, with the config's key names
     *                   (e.g. {@code Root}, {@code Bucket}); values are strings, numbers,
     *                   booleans or nested maps as YAML gives them
     * @param context    clock, trash lifetime, signature TTL and metrics
     * @throws IllegalArgumentException for missing or invalid parameters, with a message that
     *                                  names the parameter (never its secret value)
     */
    Volume create(Map<String, Object> parameters, VolumeContext context) throws IOException;

    /**
     * The driver registered under {@code name} (case-sensitive, as in the reference config).
     *
     * @throws IllegalArgumentException if no such driver is on the class path
     */
    static VolumeDriver forName(String name) {
        for (VolumeDriver d : ServiceLoader.load(VolumeDriver.class)) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown volume driver: " + name);
    }
}
