package org.keepstore.volumes.azure;

import java.io.IOException;
import java.util.Map;

import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Azure} volume driver: a container in Azure Blob Storage (or an emulator such as
 * Azurite), in the reference keepstore's layout (see {@link AzureVolume}).
 *
 * <p>{@code DriverParameters}, as in the reference cluster config:
 * <ul>
 * <li>{@code ContainerName} (required), {@code StorageAccountName}, {@code StorageAccountKey}
 * (required; the key itself, not a file);</li>
 * <li>{@code StorageBaseURL}: DNS suffix of the blob service, default {@code core.windows.net};
 * requests go to {@code https://ACCOUNT.blob.SUFFIX};</li>
 * <li>{@code RequestTimeout} (Go duration, default 10m), applied to every request;</li>
 * <li>{@code ListBlobsRetryDelay} (10s) and {@code ListBlobsMaxAttempts} (12): how listing
 * retries a page while the service answers 503 (busy);</li>
 * <li>{@code WriteRaceInterval} (15s) and {@code WriteRacePollTime} (1s): see {@link AzureVolume}.</li>
 * </ul>
 * and two of our own:
 * <ul>
 * <li>{@code Endpoint}: the full blob service URL, overriding account name and base URL for
 * emulators and sovereign clouds, e.g. {@code http://127.0.0.1:10000/devstoreaccount1}; the
 * account name defaults to the one in that URL;</li>
 * <li>{@code MaxGetBytes} (legacy flag {@code -azure-max-get-bytes}): blocks larger than this
 * are read with ranged GETs, one after another, of at most this many bytes (default 64 MiB: one GET).</li>
 * </ul>
 */
public final class AzureVolumeDriver implements VolumeDriver {
    private static final Logger log = LoggerFactory.getLogger(AzureVolumeDriver.class);

    @Override
    public String name() {
        return AzureVolumeSettings.DRIVER;
    }

    @Override
    public Volume create(Map<String, Object> parameters, VolumeContext context) throws IOException {
        AzureVolumeSettings settings = AzureVolumeSettings.parse(parameters);
        log.debug("creating Azure volume with {}", settings);
        AzureVolume volume = new AzureVolume(settings, context, AzureVolume.DEFAULT_LIST_PAGE_SIZE);
        try {
            volume.checkContainer();
        } catch (IOException | RuntimeException e) {
            volume.close();
            throw e;
        }
        return volume;
    }
}
