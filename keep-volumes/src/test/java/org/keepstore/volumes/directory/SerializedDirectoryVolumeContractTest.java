package org.keepstore.volumes.directory;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeContract;

/** The contract again with {@code Serialize} on: one I/O at a time must not deadlock or change results. */
class SerializedDirectoryVolumeContractTest extends VolumeContract {
    @TempDir
    Path temp;
    private int volumes;

    @Override
    protected Volume newVolume(VolumeContext context) throws Exception {
        Path root = Files.createDirectory(temp.resolve("volume" + volumes++));
        return new DirectoryVolume(root, true, context);
    }
}
