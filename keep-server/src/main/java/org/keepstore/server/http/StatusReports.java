package org.keepstore.server.http;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.keepstore.core.VolumeStatus;
import org.keepstore.core.worker.PullItem;
import org.keepstore.core.worker.TrashItem;
import org.keepstore.core.worker.WorkQueue;

/** The JSON documents of {@code /status.json} and {@code /mounts}, as maps for Jackson. */
final class StatusReports {
    private StatusReports() {
    }

    static Map<String, Object> status(KeepStore store, WorkQueue<PullItem> pullQueue, WorkQueue<TrashItem> trashQueue,
                                      int requestsInFlight, int maxRequests) {
        List<Map<String, Object>> volumes = new ArrayList<>();
        for (Mount mount : store.mounts()) {
            Map<String, Object> v = new LinkedHashMap<>();
            VolumeStatus status;
            try {
                status = mount.volume().status();
            } catch (RuntimeException e) {
                status = new VolumeStatus("", mount.deviceId(), -1, -1);
            }
            v.put("mount_uuid", mount.uuid());
            v.put("mount_point", status.mountPoint());
            v.put("device_id", status.deviceId());
            v.put("bytes_free", status.bytesFree());
            v.put("bytes_used", status.bytesUsed());
            volumes.add(v);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("volumes", volumes);
        root.put("BufferPool", Map.of(
                "BytesAllocated", store.bufferPool().bytesAllocated(),
                "BuffersMax", store.bufferPool().maxBuffers(),
                "BuffersInUse", store.bufferPool().inUse()));
        root.put("PullQueue", Map.of("InProgress", pullQueue.inProgress(), "Queued", pullQueue.queued()));
        root.put("TrashQueue", Map.of("InProgress", trashQueue.inProgress(), "Queued", trashQueue.queued()));
        root.put("RequestsCurrent", requestsInFlight);
        root.put("RequestsMax", maxRequests);
        var memory = ManagementFactory.getMemoryMXBean();
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("HeapUsed", memory.getHeapMemoryUsage().getUsed());
        mem.put("HeapCommitted", memory.getHeapMemoryUsage().getCommitted());
        mem.put("HeapMax", memory.getHeapMemoryUsage().getMax());
        mem.put("NonHeapUsed", memory.getNonHeapMemoryUsage().getUsed());
        long direct = 0;
        for (var pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            direct += Math.max(0, pool.getMemoryUsed());
        }
        mem.put("DirectUsed", direct);
        mem.put("ResidentBytes", ServerMetrics.residentBytes());
        root.put("Memory", mem);
        return root;
    }

    static List<Map<String, Object>> mounts(KeepStore store) {
        List<Map<String, Object>> mounts = new ArrayList<>();
        for (Mount mount : store.mounts()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("uuid", mount.uuid());
            m.put("device_id", mount.deviceId());
            m.put("allow_write", mount.allowWrite());
            m.put("allow_trash", mount.allowTrash());
            m.put("read_only", !mount.allowWrite());
            m.put("replication", mount.replication());
            Map<String, Boolean> classes = new java.util.TreeMap<>();
            for (String c : mount.storageClasses()) {
                classes.put(c, true);
            }
            m.put("storage_classes", classes);
            mounts.add(m);
        }
        return mounts;
    }

}
