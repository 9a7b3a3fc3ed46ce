package org.keepstore.volumes.directory;

/** The contract again with {@code Serialize} on: one I/O at a time must not deadlock or change results. */
class SerializedDirectoryVolumeContractTest extends DirectoryVolumeContractTest {
    @Override
    boolean serialize() {
        return true;
    }
}
