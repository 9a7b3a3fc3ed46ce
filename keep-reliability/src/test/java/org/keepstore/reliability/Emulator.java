package org.keepstore.reliability;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A storage-service emulator run by a test, so that it can be frozen, killed and brought back at
 * the same address with the same data. Subclasses say how to start their service and where it
 * answers; starting, waiting, signalling and stopping the process is the same for all of them.
 */
abstract class Emulator implements AutoCloseable {
    /** Short name for messages and the log file ({@code NAME.log} in the home directory). */
    private final String name;
    private final Path home;
    final int port;
    /** How many times (50 ms apart) {@link #launch()} asks whether the emulator answers yet. */
    private final int launchPolls;
    private Process process;

    Emulator(String name, Path home, int port, int launchPolls) {
        this.name = name;
        this.home = home;
        this.port = port;
        this.launchPolls = launchPolls;
    }

    /** The driver name in a cluster config ({@code Azure}, {@code S3}). */
    public abstract String driver();

    public abstract void createContainer(String name) throws Exception;

    /** The {@code DriverParameters} lines (indented for a volume entry) for a container. */
    public abstract String driverParameters(String container, int timeoutSeconds);

    /** The command line that runs the emulator in the foreground on {@link #port}. */
    abstract List<String> command();

    /** A URL that gets an HTTP response (of any status) once the emulator serves. */
    abstract String probeUrl();

    /** (Re)starts on the same port and data; returns once it answers. */
    public void launch() throws Exception {
        Path log = home.resolve(name + ".log");
        process = new ProcessBuilder(command()).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        for (int i = 0; i < launchPolls; i++) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited: " + Files.readString(log));
            }
            if (answers()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " did not answer on port " + port);
    }

    private boolean answers() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(probeUrl()).toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(500);
            c.getResponseCode();
            c.disconnect();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The emulator dies: connections are refused from now on. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** The emulator hangs: connections are accepted by the kernel but nothing answers. */
    public void freeze() throws Exception {
        signal("STOP");
    }

    public void thaw() throws Exception {
        signal("CONT");
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            try {
                thaw();
            } catch (IOException e) {
                // it may not be stopped
            }
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Sends a POSIX signal to the emulator's process (by its pid). */
    private void signal(String signalName) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signalName, Long.toString(process.pid())).start();
        if (!kill.waitFor(30, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signalName + " " + process.pid() + " failed");
        }
    }
}
