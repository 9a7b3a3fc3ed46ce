package org.keepstore.core;

import java.util.Map;

/**
 * The {@code Memory} volume driver: creates {@link MemoryVolume}s. Parameters (all optional):
 * {@code DeviceID} (default: a random id) and {@code CapacityBytes} (default: unlimited).
 */
public final class MemoryVolumeDriver implements VolumeDriver {

    @Override
    public String name() {
        return "Memory";
    }

    @Override
    public Volume create(Map<String, Object> parameters, VolumeContext context) {
        DriverParameters p = new DriverParameters(name(), parameters);
        MemoryVolume volume = p.has("DeviceID")
                ? new MemoryVolume(p.string("DeviceID", null), context)
                : new MemoryVolume(context);
        long capacity = p.number("CapacityBytes", Long.MAX_VALUE);
        if (capacity < 0) {
            throw new IllegalArgumentException("Memory volume: DriverParameters.CapacityBytes must not be negative");
        }
        volume.setCapacity(capacity);
        return volume;
    }
}
