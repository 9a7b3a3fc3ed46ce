package org.keepstore.volumes.directory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.keepstore.core.DriverParameters;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;

/**
 * The {@code Directory} driver of the cluster config. Parameters: {@code Root} (required, an
 * absolute path to an existing directory), {@code Serialize} (one I/O at a time; default
 * false) and {@code DirectIO} (large blocks past the page cache; default true; not a parameter
 * of the reference server, which ignores it).
 */
public final class DirectoryVolumeDriver implements VolumeDriver {
    public static final String NAME = "Directory";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Volume create(Map<String, Object> parameters, VolumeContext context) throws IOException {
        DriverParameters p = new DriverParameters(NAME, parameters);
        String root = p.requiredString("Root");
        boolean serialize = p.bool("Serialize", false);
        boolean directIo = p.bool("DirectIO", true);
        Path path = Path.of(root);
        return new DirectoryVolume(path, serialize, directIo, context);
    }
}
