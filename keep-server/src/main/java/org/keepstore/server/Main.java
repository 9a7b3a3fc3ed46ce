package org.keepstore.server;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;

import org.keepstore.core.BlobSigner;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;
import org.keepstore.core.client.KeepClient;
import org.keepstore.core.worker.PullWorker;
import org.keepstore.core.worker.TrashEmptier;
import org.keepstore.core.worker.TrashWorker;
import org.keepstore.server.flags.FlagException;
import org.keepstore.server.flags.LegacyFlags;
import org.keepstore.server.http.KeepHttpServer;
import org.keepstore.server.http.ServerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code keepstore} command: parses the reference server's flags, mounts the volumes, serves
 * until SIGTERM/SIGINT, then drains and exits 0. Every startup problem is one line on stderr and a
 * non-zero exit before the port is opened.
 */
public final class Main {
    /** System property naming the mounts table to search when no volume flag is given (tests). */
    public static final String MOUNTS_FILE_PROPERTY = "keepstore.mountsFile";
    /**
     * Slow-client limits (Go durations), as JVM system properties because the reference server
     * has no flags for them: time for request headers, for a stalled client, for a whole body.
     */
    public static final String HEADER_TIMEOUT_PROPERTY = "keepstore.http.headerTimeout";
    public static final String IDLE_TIMEOUT_PROPERTY = "keepstore.http.idleTimeout";
    public static final String BODY_TIMEOUT_PROPERTY = "keepstore.http.bodyTimeout";
    /** How long a graceful stop waits for requests in progress. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private final PrintStream err;
    private final CountDownLatch stopRequested = new CountDownLatch(1);

    Main(PrintStream err) {
        this.err = err;
    }

    public static void main(String[] args) {
        int status = 1;
        try {
            Main main = new Main(System.err);
            main.installSignalHandlers();
            status = main.run(Arrays.asList(args));
        } catch (Throwable t) {
            // E.g. a class that cannot be loaded any more because the jar was replaced under the
            // running server. Without the exit below the JVM would linger, kept alive by
            // non-daemon threads, with nothing listening.
            System.err.println("keepstore: unexpected error: " + t);
            t.printStackTrace();
        } finally {
            System.exit(status);
        }
    }

    /** SIGTERM and SIGINT ask for a graceful stop; the JVM's own handling would exit 143/130 instead of 0. */
    @SuppressWarnings("removal")
    private void installSignalHandlers() {
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stopRequested.countDown());
            } catch (IllegalArgumentException e) {
                // Signal not available here; the default handling applies.
            }
        }
    }

    /** Asks a running {@link #run} to stop as SIGTERM would (tests running the server in this JVM). */
    void stop() {
        stopRequested.countDown();
    }

    /** Runs the command; returns the exit status. */
    int run(List<String> args) {
        LegacyFlags flags = new LegacyFlags();
        try {
            flags.parse(args);
        } catch (FlagException e) {
            switch (e.kind()) {
                case HELP -> {
                    err.print(flags.usage());
                    return 0;
                }
                case UNKNOWN, SYNTAX -> {
                    err.println(e.getMessage());
                    err.print(flags.usage());
                    return 2;
                }
                default -> {
                    err.println(e.getMessage());
                    return 2;
                }
            }
        }
        try {
            return serve(settingsFor(flags));
        } catch (StartupException e) {
            err.println("keepstore: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** The settings parsed flags give, the {@code -config} file's included, as the server starts with them. */
    static ServerSettings settingsFor(LegacyFlags flags) throws StartupException {
        String mountsFile = System.getProperty(MOUNTS_FILE_PROPERTY, "/proc/mounts");
        ServerSettings settings = flags.toSettings(Path.of(mountsFile));
        if (settings.configFile() != null) {
            settings = new ClusterConfigLoader(System.getenv()).load(settings.configFile(), settings, flags.givenFlags());
        }
        return settings;
    }

    private int serve(ServerSettings settings) throws StartupException, InterruptedException {
        checkListenHost(settings);
        Clock clock = Clock.systemUTC();
        ServerMetrics metrics = new ServerMetrics();
        PidFile pidFile = settings.pidFile() == null ? null : PidFile.acquire(settings.pidFile());
        List<Mount> mounts = new ArrayList<>();
        KeepStore store = null;
        PullWorker pullWorker = null;
        TrashWorker trashWorker = null;
        TrashEmptier trashEmptier = null;
        KeepHttpServer server = null;
        try {
            VolumeContext context = new VolumeContext(clock, settings.trashLifetime(), settings.blobSignatureTtl(), metrics);
            for (VolumeSpec spec : settings.volumes()) {
                mounts.add(mount(spec, context));
            }
            BufferPool pool = new BufferPool(settings.maxBuffers());
            store = new KeepStore(mounts, pool, new KeepStore.Options(clock, settings.blobSignatureTtl(),
                    settings.trashEnabled(), settings.defaultStorageClasses()));
            BlobSigner signer = settings.blobSigningKey() == null ? null
                    : new BlobSigner(settings.blobSigningKey(), settings.blobSignatureTtl(), clock);
            ServerSettings.WorkerConcurrency workers = settings.workerConcurrency();
            pullWorker = new PullWorker(store, signer, KeepClient.builder().build(),
                    Math.max(1, workers.replicate()));
            trashWorker = new TrashWorker(store, Math.max(1, workers.trash()));
            server = KeepHttpServer.builder(store)
                    .signer(signer)
                    .enforcePermissions(settings.enforcePermissions())
                    .adminToken(settings.adminToken())
                    .managementToken(settings.managementToken())
                    .pullQueue(pullWorker)
                    .trashQueue(trashWorker)
                    .metrics(metrics)
                    .maxRequests(settings.maxRequests())
                    .clientTimeouts(
                            durationProperty(HEADER_TIMEOUT_PROPERTY, KeepHttpServer.DEFAULT_HEADER_TIMEOUT),
                            durationProperty(IDLE_TIMEOUT_PROPERTY, KeepHttpServer.DEFAULT_IDLE_TIMEOUT),
                            durationProperty(BODY_TIMEOUT_PROPERTY, KeepHttpServer.DEFAULT_BODY_TIMEOUT))
                    .build();
            logStartup(settings, mounts);
            BufferMemoryCheck.warningForThisJvm(settings.maxBuffers()).ifPresent(log::warn);
            try {
                server.start(settings.listenHost(), settings.listenPort());
            } catch (IOException | RuntimeException e) {
                server = null;
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw new StartupException("cannot listen on " + settings.listenAddress() + ": "
                        + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
            }
            log.info("listening on {} (port {})", settings.listenAddress(), server.port());
            if (settings.trashEnabled() && workers.delete() > 0) {
                trashEmptier = new TrashEmptier(store, settings.trashCheckInterval(), workers.delete(), null);
                trashEmptier.start();
            }
            stopRequested.await();
            log.info("stopping: new requests get 503; waiting up to {}s for requests in progress",
                    DRAIN_TIMEOUT.toSeconds());
            boolean drained = server.shutdown(DRAIN_TIMEOUT);
            server = null;
            if (!drained) {
                log.warn("some requests were still in progress after {}s", DRAIN_TIMEOUT.toSeconds());
            }
            log.info("stopped");
            return 0;
        } finally {
            if (server != null) {
                server.shutdown(Duration.ofSeconds(1));
            }
            if (trashEmptier != null) {
                trashEmptier.close();
            }
            if (pullWorker != null) {
                pullWorker.close();
            }
            if (trashWorker != null) {
                trashWorker.close();
            }
            closeVolumes(store, mounts);
            if (pidFile != null) {
                pidFile.close();
            }
        }
    }

    private static Duration durationProperty(String name, Duration fallback) throws StartupException {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            Duration d = org.keepstore.core.GoDuration.parse(value.trim());
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("must be positive");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw new StartupException("-D" + name + "=" + value + ": " + e.getMessage());
        }
    }

    /** A listen host that does not resolve is a bad setting: one line on stderr before anything is opened. */
    private static void checkListenHost(ServerSettings settings) throws StartupException {
        String host = settings.listenHost();
        if (host == null || host.isEmpty()) {
            return;
        }
        try {
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new StartupException("cannot listen on " + settings.listenAddress() + ": unknown host " + host);
        }
    }

    /** Opens a volume and mounts it as {@code spec} says (package-private: tests build the same mounts). */
    static Mount mount(VolumeSpec spec, VolumeContext context) throws StartupException {
        if (spec.driver().equals("Directory")) {
            checkDirectoryAccess(spec);
        }
        Volume volume;
        try {
            volume = VolumeDriver.forName(spec.driver()).create(spec.parameters(), context);
        } catch (IllegalArgumentException e) {
            throw new StartupException(spec.label() + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw new StartupException(spec.driver() + " volume " + spec.label() + ": cannot open (" + e + ")");
        }
        return new Mount(spec.uuid(), volume, spec.writable(), spec.allowTrash(), spec.replication(),
                spec.storageClasses(), spec.priority());
    }

    /**
     * Refuses a directory volume this process cannot use as configured, rather than starting and
     * failing every request on it: one it cannot list, or a writable one it cannot write to
     * (permissions, or a read-only file system).
     */
    private static void checkDirectoryAccess(VolumeSpec spec) throws StartupException {
        Object rootParameter = spec.parameters().get("Root");
        if (!(rootParameter instanceof String text) || text.isEmpty()) {
            return; // the driver says what is wrong with it
        }
        Path root = Path.of(text);
        if (!Files.isDirectory(root)) {
            return; // likewise
        }
        if (!Files.isReadable(root) || !Files.isExecutable(root)) {
            throw new StartupException("Directory volume " + spec.label() + ": cannot read it as user "
                    + System.getProperty("user.name") + " (permission denied)");
        }
        if (spec.writable() && !Files.isWritable(root)) {
            throw new StartupException("Directory volume " + spec.label() + ": cannot write to it as user "
                    + System.getProperty("user.name") + " (permissions, or a read-only file system);"
                    + " to serve it read-only, give -readonly before it (ReadOnly: true in a config)");
        }
    }

    private static void logStartup(ServerSettings settings, List<Mount> mounts) {
        for (int i = 0; i < mounts.size(); i++) {
            Mount mount = mounts.get(i);
            VolumeSpec spec = settings.volumes().get(i);
            log.info("volume {} {} {}: {}{}, replication {}, storage classes {}, priority {}, device {}",
                    mount.uuid(), spec.driver(), spec.label(), mount.allowWrite() ? "writable" : "read-only",
                    !mount.allowWrite() && mount.allowTrash() ? " (trash allowed)" : "", mount.replication(),
                    String.join(",", new TreeSet<>(mount.storageClasses())), mount.priority(),
                    mount.deviceId());
        }
        log.info(settings.trashEnabled()
                ? "never-delete is false: blocks may be trashed (trash lifetime {})"
                : "never-delete is true: DELETE requests and trash lists will not remove anything{}",
                settings.trashEnabled() ? org.keepstore.core.GoDuration.format(settings.trashLifetime()) : "");
        log.info("permission signatures: {}; admin token: {}; max-buffers {}, max-requests {}",
                settings.enforcePermissions() ? "enforced" : "not enforced",
                settings.adminToken() == null ? "not configured (admin endpoints refuse everyone)" : "configured",
                settings.maxBuffers(), settings.maxRequests());
    }

    private static void closeVolumes(KeepStore store, List<Mount> mounts) {
        try {
            if (store != null) {
                store.close();
                return;
            }
        } catch (IOException | RuntimeException e) {
            log.warn("closing volumes: {}", e.toString());
            return;
        }
        for (Mount mount : mounts) {
            try {
                mount.volume().close();
            } catch (IOException | RuntimeException e) {
                log.warn("closing volume {}: {}", mount.uuid(), e.toString());
            }
        }
    }
}
