package org.keepstore.server.http;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.keepstore.core.VolumeMetrics;

/**
 * The server's metrics in Prometheus text exposition format (SPEC §11), under the reference
 * server's names so existing dashboards keep working. Volumes report into it through
 * {@link VolumeMetrics}; the request handler records request durations; gauges (buffers, queues,
 * requests in flight) are read from the live objects when {@code /metrics} is rendered.
 *
 * <p>Written by hand rather than with a metrics library: the format is a few lines of text, the
 * names must match the reference exactly, and it keeps the server's dependencies small.
 */
public final class ServerMetrics implements VolumeMetrics {

    /** Live figures read at render time. */
    interface Gauges {
        long bufferBytesAllocated();

        int buffersMax();

        int buffersInUse();

        int pullQueued();

        int pullInProgress();

        int trashQueued();

        int trashInProgress();

        int requestsInFlight();

        int requestsMax();
    }

    private static final java.util.Set<String> KNOWN_METHODS =
            java.util.Set.of("get", "head", "put", "delete", "touch", "options", "post");

    private static final double[] DURATION_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Map<String, LongAdder> operations = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> ioBytes = new ConcurrentHashMap<>();
    private final Map<String, Histogram> durations = new ConcurrentHashMap<>();

    private static final class Histogram {
        final long[] bucketCounts = new long[DURATION_BUCKETS.length];
        long count;
        double sum;

        synchronized void observe(double seconds) {
            for (int i = 0; i < DURATION_BUCKETS.length; i++) {
                if (seconds <= DURATION_BUCKETS[i]) {
                    bucketCounts[i]++;
                }
            }
            count++;
            sum += seconds;
        }
    }

    @Override
    public void operation(String deviceId, String operation) {
        count(operations, labels("device_id", deviceId, "operation", operation), 1);
    }

    @Override
    public void error(String deviceId, String errorType) {
        count(errors, labels("device_id", deviceId, "error_type", errorType), 1);
    }

    @Override
    public void ioBytes(String deviceId, String direction, long bytes) {
        count(ioBytes, labels("device_id", deviceId, "direction", direction), bytes);
    }

    /** Records one finished request. */
    void observeRequest(int status, String method, long durationNanos) {
        String m = method.toLowerCase(java.util.Locale.ROOT);
        if (!KNOWN_METHODS.contains(m)) {
            // Clients choose method names: do not let them create unbounded label values.
            m = "other";
        }
        durations.computeIfAbsent(labels("code", Integer.toString(status), "method", m),
                k -> new Histogram()).observe(durationNanos / 1e9);
    }

    private static void count(Map<String, LongAdder> family, String labels, long amount) {
        family.computeIfAbsent(labels, k -> new LongAdder()).add(amount);
    }

    private static String labels(String... nameValues) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < nameValues.length; i += 2) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(nameValues[i]).append("=\"").append(escape(nameValues[i + 1])).append('"');
        }
        return sb.toString();
    }

    private static String escape(String value) {
        if (value == null) {
            return "";
        }
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Renders every metric in text format version 0.0.4. */
    String render(Gauges gauges) {
        StringBuilder out = new StringBuilder(8192);
        counterFamily(out, "arvados_keepstore_volume_operations", "Operations performed on volumes.", operations);
        counterFamily(out, "arvados_keepstore_volume_errors", "Errors returned by volumes.", errors);
        counterFamily(out, "arvados_keepstore_volume_io_bytes", "Bytes read from (in) and written to (out) volumes.", ioBytes);
        gauge(out, "arvados_keepstore_bufferpool_allocated_bytes", "Bytes of block buffers allocated.",
                gauges.bufferBytesAllocated());
        gauge(out, "arvados_keepstore_bufferpool_max_buffers", "Most block buffers that may exist.", gauges.buffersMax());
        gauge(out, "arvados_keepstore_bufferpool_inuse_buffers", "Block buffers in use.", gauges.buffersInUse());
        gauge(out, "arvados_keepstore_pull_queue_pending_entries", "Pull list entries waiting.", gauges.pullQueued());
        gauge(out, "arvados_keepstore_pull_queue_inprogress_entries", "Pull list entries being worked on.",
                gauges.pullInProgress());
        gauge(out, "arvados_keepstore_trash_queue_pending_entries", "Trash list entries waiting.",
                gauges.trashQueued());
        gauge(out, "arvados_keepstore_trash_queue_inprogress_entries", "Trash list entries being worked on.",
                gauges.trashInProgress());
        gauge(out, "arvados_concurrent_requests", "Requests in progress.", gauges.requestsInFlight());
        gauge(out, "arvados_max_concurrent_requests", "Most requests in progress before answering 503.",
                gauges.requestsMax());
        renderDurations(out);
        renderJvm(out);
        return out.toString();
    }

    private static void counterFamily(StringBuilder out, String name, String help, Map<String, LongAdder> family) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        for (Map.Entry<String, LongAdder> e : new TreeMap<>(family).entrySet()) {
            out.append(name).append('{').append(e.getKey()).append("} ").append(e.getValue().sum()).append('\n');
        }
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(format(value)).append('\n');
    }

    private static String format(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    private void renderDurations(StringBuilder out) {
        String name = "request_duration_seconds";
        out.append("# HELP ").append(name).append(" Time taken to answer requests, by status code and method.\n");
        out.append("# TYPE ").append(name).append(" histogram\n");
        for (Map.Entry<String, Histogram> e : new TreeMap<>(durations).entrySet()) {
            Histogram h = e.getValue();
            long[] buckets;
            long count;
            double sum;
            synchronized (h) {
                buckets = h.bucketCounts.clone();
                count = h.count;
                sum = h.sum;
            }
            for (int i = 0; i < DURATION_BUCKETS.length; i++) {
                out.append(name).append("_bucket{").append(e.getKey()).append(",le=\"")
                        .append(DURATION_BUCKETS[i]).append("\"} ").append(buckets[i]).append('\n');
            }
            out.append(name).append("_bucket{").append(e.getKey()).append(",le=\"+Inf\"} ").append(count).append('\n');
            out.append(name).append("_sum{").append(e.getKey()).append("} ").append(sum).append('\n');
            out.append(name).append("_count{").append(e.getKey()).append("} ").append(count).append('\n');
        }
    }

    private static void renderJvm(StringBuilder out) {
        var memory = ManagementFactory.getMemoryMXBean();
        MemoryUsage heap = memory.getHeapMemoryUsage();
        MemoryUsage nonHeap = memory.getNonHeapMemoryUsage();
        family(out, "jvm_memory_bytes_used", "gauge", "Used JVM memory by area.");
        out.append("jvm_memory_bytes_used{area=\"heap\"} ").append(heap.getUsed()).append('\n');
        out.append("jvm_memory_bytes_used{area=\"nonheap\"} ").append(nonHeap.getUsed()).append('\n');
        family(out, "jvm_memory_bytes_committed", "gauge", "Committed JVM memory by area.");
        out.append("jvm_memory_bytes_committed{area=\"heap\"} ").append(heap.getCommitted()).append('\n');
        out.append("jvm_memory_bytes_committed{area=\"nonheap\"} ").append(nonHeap.getCommitted()).append('\n');
        family(out, "jvm_memory_bytes_max", "gauge", "Maximum JVM memory by area (-1 = unbounded).");
        out.append("jvm_memory_bytes_max{area=\"heap\"} ").append(heap.getMax()).append('\n');
        out.append("jvm_memory_bytes_max{area=\"nonheap\"} ").append(nonHeap.getMax()).append('\n');
        family(out, "jvm_buffer_pool_used_bytes", "gauge", "Bytes used by JVM buffer pools (direct, mapped).");
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            out.append("jvm_buffer_pool_used_bytes{pool=\"").append(escape(pool.getName())).append("\"} ")
                    .append(pool.getMemoryUsed()).append('\n');
        }
        family(out, "jvm_threads_current", "gauge", "Live JVM threads.");
        out.append("jvm_threads_current ").append(ManagementFactory.getThreadMXBean().getThreadCount()).append('\n');
        family(out, "jvm_gc_collection_seconds", "summary", "Time spent in garbage collection, by collector.");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            String label = "{gc=\"" + escape(gc.getName()) + "\"} ";
            out.append("jvm_gc_collection_seconds_count").append(label).append(gc.getCollectionCount()).append('\n');
            out.append("jvm_gc_collection_seconds_sum").append(label).append(gc.getCollectionTime() / 1000.0).append('\n');
        }
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sunOs) {
            family(out, "process_cpu_seconds_total", "counter", "CPU time used by the process.");
            out.append("process_cpu_seconds_total ").append(sunOs.getProcessCpuTime() / 1e9).append('\n');
        }
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unixOs) {
            family(out, "process_open_fds", "gauge", "Open file descriptors.");
            out.append("process_open_fds ").append(unixOs.getOpenFileDescriptorCount()).append('\n');
            family(out, "process_max_fds", "gauge", "Limit on open file descriptors.");
            out.append("process_max_fds ").append(unixOs.getMaxFileDescriptorCount()).append('\n');
        }
        long rss = residentBytes();
        if (rss >= 0) {
            family(out, "process_resident_memory_bytes", "gauge", "Resident set size of the process.");
            out.append("process_resident_memory_bytes ").append(rss).append('\n');
        }
        family(out, "process_start_time_seconds", "gauge", "Start time of the process, Unix seconds.");
        out.append("process_start_time_seconds ")
                .append(ManagementFactory.getRuntimeMXBean().getStartTime() / 1000.0).append('\n');
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** VmRSS from /proc/self/status, or -1 where there is no /proc. */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux: leave the figure out.
        }
        return -1;
    }
}
