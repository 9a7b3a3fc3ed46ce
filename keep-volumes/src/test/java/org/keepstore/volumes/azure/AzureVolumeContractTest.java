package org.keepstore.volumes.azure;

import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.azure.core.util.BinaryData;
import org.junit.jupiter.api.AfterEach;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeContract;

/** The shared volume contract against Azurite, each volume on a fresh container. */
class AzureVolumeContractTest extends VolumeContract {
    /** Just over Azurite's Last-Modified granularity (see {@link #advanceTime}). */
    private static final Duration SERVER_STAMP_STEP = Duration.ofMillis(1100);

    private final Map<Volume, String> containers = new ConcurrentHashMap<>();
    private Azurite azurite;

    @Override
    protected Volume newVolume(VolumeContext context) throws Exception {
        if (azurite == null) {
            azurite = Azurite.fromEnvironment();
        }
        String container = azurite.newContainer();
        Volume v = new AzureVolumeDriver().create(azurite.parameters(container), context);
        containers.put(v, container);
        return v;
    }

    @AfterEach
    void deleteContainers() {
        if (azurite != null) {
            azurite.deleteContainers();
        }
        containers.clear();
    }

    /** Mtimes are the blob's Last-Modified, stamped by the service. */
    @Override
    protected boolean mtimeIsTheContextClock() {
        return false;
    }

    /**
     * Azurite stamps Last-Modified (our mtime) with its own clock in whole seconds, so after the
     * contract's clock moves, real time must pass too for the next stamp to differ. Trash
     * deadlines follow the contract's clock alone.
     */
    @Override
    protected void advanceTime(Duration amount) throws Exception {
        super.advanceTime(amount);
        Thread.sleep(SERVER_STAMP_STEP.toMillis());
    }

    /** An interrupted upload leaves staged, uncommitted blocks: stored, but not part of any blob. */
    @Override
    protected void leavePartialWrite(Volume volume, String hash, byte[] partialData) {
        String blockId = Base64.getEncoder().encodeToString("partial-0001".getBytes());
        azurite.container(containers.get(volume)).getBlobClient(hash).getBlockBlobClient()
                .stageBlock(blockId, BinaryData.fromBytes(partialData));
    }
}
