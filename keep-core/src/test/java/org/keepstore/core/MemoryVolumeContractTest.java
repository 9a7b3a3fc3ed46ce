package org.keepstore.core;

/** The shared volume contract, run against the in-heap volume. */
class MemoryVolumeContractTest extends VolumeContract {
    @Override
    protected Volume newVolume(VolumeContext context) {
        return new MemoryVolume(context);
    }
}
