package org.keepstore.reliability;

/**
 * A storage-service emulator run by a test, so that it can be frozen, killed and brought back at
 * the same address with the same data.
 */
interface Emulator extends AutoCloseable {
    /** The driver name in a cluster config ({@code Azure}, {@code S3}). */
    String driver();

    void createContainer(String name) throws Exception;

    /** The {@code DriverParameters} lines (indented for a volume entry) for a container. */
    String driverParameters(String container, int timeoutSeconds);

    /** Connections refused from now on. */
    void kill() throws Exception;

    /** Connections accepted by the kernel but never answered. */
    void freeze() throws Exception;

    void thaw() throws Exception;

    /** (Re)starts on the same port and data; returns once it answers. */
    void launch() throws Exception;

    /** Sends a POSIX signal to the emulator's process (by its pid). */
    static void signal(Process process, String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        if (!kill.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new java.io.IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }
}
