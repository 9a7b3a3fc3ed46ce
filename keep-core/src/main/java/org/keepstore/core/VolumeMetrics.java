package org.keepstore.core;

/**
 * Counters a volume reports, named after the reference server's metrics
 * ({@code arvados_keepstore_volume_operations}, {@code _errors}, {@code _io_bytes}).
 * Implementations must be thread-safe and cheap.
 */
public interface VolumeMetrics {
    /** One backend operation, e.g. "get", "put", "head", "list", "delete", "touch". */
    void operation(String deviceId, String operation);

    /** One error, classified, e.g. "io", "timeout", "not_found" is not an error. */
    void error(String deviceId, String errorType);

    /**
     * Direction of bytes read from a volume into the server: "in", as the reference keepstore
     * counts it (dashboards built on it show reads under "in").
     */
    String READ = "in";
    /** Direction of bytes written from the server to a volume: "out", as the reference counts it. */
    String WRITTEN = "out";

    /** Bytes moved: direction {@link #READ} or {@link #WRITTEN}. */
    void ioBytes(String deviceId, String direction, long bytes);

    VolumeMetrics NONE = new VolumeMetrics() {
        @Override
        public void operation(String deviceId, String operation) {
        }

        @Override
        public void error(String deviceId, String errorType) {
        }

        @Override
        public void ioBytes(String deviceId, String direction, long bytes) {
        }
    };
}
