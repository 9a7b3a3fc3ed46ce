package org.keepstore.volumes.directory;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeContract;

/** The shared volume contract, run against real directories. */
class DirectoryVolumeContractTest extends VolumeContract {
    @TempDir
    Path temp;
    private int volumes;

    @Override
    protected Volume newVolume(VolumeContext context) throws Exception {
        Path root = Files.createDirectory(temp.resolve("volume" + volumes++));
        return new DirectoryVolume(root, serialize(), context);
    }

    /** Whether the volumes under test run with {@code Serialize}. */
    boolean serialize() {
        return false;
    }

    /** What the reference server leaves when it dies mid-write: a tmp file beside the blocks. */
    @Override
    protected void leavePartialWrite(Volume volume, String hash, byte[] partialData) throws Exception {
        Path dir = ((DirectoryVolume) volume).root().resolve(hash.substring(0, 3));
        Files.createDirectories(dir);
        Files.write(dir.resolve("tmp" + hash + "123456789"), partialData);
    }
}
