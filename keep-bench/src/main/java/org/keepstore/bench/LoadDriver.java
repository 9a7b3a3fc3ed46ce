package org.keepstore.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.google.common.io.MoreFiles;

/**
 * End-to-end load driver: starts the real keepstore server as a separate process on 127.0.0.1
 * with a fresh directory volume, measures large-block and small-request throughput, memory and
 * {@code /index}, and reports every figure next to the single-core MD5 line of the same run.
 *
 * <p>Run {@code scripts/bench.sh} (or {@code java -cp keep-bench/target/benchmarks.jar
 * org.keepstore.bench.LoadDriver --help}). With {@code --check} it exits 1 when a goal of
 * issue 8 is missed, so a benchmark job can run it.
 */
public final class LoadDriver {
    private static final int MIB = 1 << 20;
    private static final int SMALL_BLOCK = 1024;
    private static final String ADMIN_TOKEN = "loaddriveradmintoken0123456789abcdefghijklmnopq";

    // Goals of issue 8, as ratios to single-core MD5 measured in the same run.
    static final double GOAL_PUT_ONE_STREAM = 0.6;
    static final double GOAL_GET_ONE_STREAM = 0.9;
    static final double GOAL_TWO_STREAM_SCALING = 1.6;
    /** 60,000 requests/s of 1 KiB at the MD5 speed of 0.9 GB/s, as a fraction of MD5. */
    static final double GOAL_SMALL_GET_8 = 60_000.0 * SMALL_BLOCK / 0.9e9;
    static final double GOAL_INDEX_HEAP_MIB = 50;
    static final int RSS_MAX_BUFFERS = 4;

    private final Options options;
    private final List<ServerProcess> running = Collections.synchronizedList(new ArrayList<>());
    private final List<PendingRow> rows = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, List<Samples>> largeChart = new LinkedHashMap<>();
    private final Map<String, List<Samples>> smallChart = new LinkedHashMap<>();
    private final SplittableRandom seeds = new SplittableRandom();
    private double md5BytesPerSecond;

    LoadDriver(Options options) {
        this.options = options;
    }

    private static final String[] PHASES = {"large", "small", "index"};

    /** Command-line settings; {@link #parse} documents them. */
    record Options(Path launcher, Path serverJar, String serverMain, Path java, List<String> serverJvmOptions, Path outDir,
                   Path workDir, boolean check, int blockMiB, int largeRepeats, int largeWarmups,
                   double sampleSeconds, int smallRepeats, int indexBlocks, int md5Rounds, int maxSeconds,
                   boolean keepVolumes, Set<String> phases) {

        static final String USAGE = String.join("\n",
                "usage: LoadDriver [options]",
                "  --launcher PATH          the keepstore launcher script (default ./keepstore, as operators",
                "                           start it: it sizes memory from -max-buffers), or any server",
                "                           binary that takes the same flags (e.g. another keepstore, to",
                "                           compare side by side; the live-heap figure then needs a JVM)",
                "  --server-jar PATH        run java -jar PATH instead of the launcher",
                "  --server-main CLASS      run CLASS from the driver's class path instead of a jar",
                "  --java PATH              java for the server (default: the driver's own)",
                "  --server-jvm-option OPT  extra JVM option for the server (repeatable; JAVA_OPTS with the launcher)",
                "  --out DIR                where the report goes (default keep-bench/target)",
                "  --work DIR               where fresh volumes are made (default OUT/load-volumes)",
                "  --check                  exit 1 when a goal is missed",
                "  --quick                  tiny sizes and few repeats (a smoke test, not a measurement)",
                "  --block-mib N            large block size in MiB (default 64)",
                "  --repeats N              measured rounds per large-block figure (default 5)",
                "  --warmups N              unmeasured rounds first (default 2)",
                "  --sample-seconds S       length of one small-request sample (default 2)",
                "  --small-repeats N        samples per small-request figure (default 3)",
                "  --index-blocks N         blocks in the /index volume (default 100000)",
                "  --max-seconds N          stop everything after N seconds (default 900)",
                "  --keep-volumes           do not delete the volumes afterwards",
                "  --phases LIST            which phases to run: large,small,index (default all)");

        static Options parse(String... args) {
            Path launcher = Path.of("keepstore");
            Path serverJar = null;
            String serverMain = null;
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            List<String> jvm = new ArrayList<>();
            Path out = Path.of("keep-bench/target");
            Path work = null;
            boolean check = false;
            boolean quick = false;
            Integer blockMiB = null;
            Integer repeats = null;
            Integer warmups = null;
            Double sampleSeconds = null;
            Integer smallRepeats = null;
            Integer indexBlocks = null;
            int maxSeconds = 900;
            boolean keep = false;
            Set<String> phases = Set.of(PHASES);
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                String value = null;
                int eq = arg.indexOf('=');
                if (arg.startsWith("--") && eq > 0) {
                    value = arg.substring(eq + 1);
                    arg = arg.substring(0, eq);
                }
                switch (arg) {
                    case "--check" -> check = true;
                    case "--quick" -> quick = true;
                    case "--keep-volumes" -> keep = true;
                    case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
                    default -> {
                        if (value == null) {
                            if (i + 1 >= args.length) {
                                throw new IllegalArgumentException(arg + " needs a value\n" + USAGE);
                            }
                            value = args[++i];
                        }
                        switch (arg) {
                            case "--launcher" -> launcher = Path.of(value);
                            case "--server-jar" -> serverJar = Path.of(value);
                            case "--server-main" -> serverMain = value;
                            case "--java" -> java = Path.of(value);
                            case "--server-jvm-option" -> jvm.add(value);
                            case "--out" -> out = Path.of(value);
                            case "--work" -> work = Path.of(value);
                            case "--block-mib" -> blockMiB = Integer.parseInt(value);
                            case "--repeats" -> repeats = Integer.parseInt(value);
                            case "--warmups" -> warmups = Integer.parseInt(value);
                            case "--sample-seconds" -> sampleSeconds = Double.parseDouble(value);
                            case "--small-repeats" -> smallRepeats = Integer.parseInt(value);
                            case "--index-blocks" -> indexBlocks = Integer.parseInt(value);
                            case "--max-seconds" -> maxSeconds = Integer.parseInt(value);
                            case "--phases" -> {
                                phases = Set.of(value.split(","));
                                if (!Set.of(PHASES).containsAll(phases)) {
                                    throw new IllegalArgumentException("phases are " + String.join(",", PHASES));
                                }
                            }
                            default -> throw new IllegalArgumentException("unknown option " + arg + "\n" + USAGE);
                        }
                    }
                }
            }
            return new Options(launcher, serverJar, serverMain, java, List.copyOf(jvm), out,
                    work != null ? work : out.resolve("load-volumes"), check,
                    blockMiB != null ? blockMiB : quick ? 2 : 64,
                    repeats != null ? repeats : quick ? 2 : 5,
                    warmups != null ? warmups : quick ? 1 : 2,
                    sampleSeconds != null ? sampleSeconds : quick ? 0.3 : 2,
                    smallRepeats != null ? smallRepeats : quick ? 1 : 3,
                    indexBlocks != null ? indexBlocks : quick ? 500 : 100_000,
                    quick ? 2 : 7, maxSeconds, keep, phases);
        }
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(args.length == 1 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
            return;
        }
        System.exit(new LoadDriver(options).runWithLimits());
    }

    /** Runs everything within the time limit, always stopping the servers; returns the exit code. */
    int runWithLimits() {
        Thread stopper = new Thread(this::stopServers, "stop-servers");
        Runtime.getRuntime().addShutdownHook(stopper);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(options.maxSeconds() * 1000L);
                System.err.println("load driver: time limit of " + options.maxSeconds() + " s reached; stopping");
                stopServers();
                Runtime.getRuntime().halt(3);
            } catch (InterruptedException e) {
                // finished in time
            }
        }, "time-limit");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            return run();
        } catch (Exception e) {
            System.err.println("load driver failed: " + e);
            e.printStackTrace();
            return 2;
        } finally {
            watchdog.interrupt();
            stopServers();
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException e) {
                // already shutting down
            }
        }
    }

    private void stopServers() {
        List<ServerProcess> copy;
        synchronized (running) {
            copy = new ArrayList<>(running);
        }
        for (ServerProcess server : copy) {
            server.close();
        }
    }

    int run() throws IOException, InterruptedException {
        Instant started = Instant.now();
        String loadBefore = loadAverage();
        Files.createDirectories(options.outDir());
        Files.createDirectories(options.workDir());
        log("measuring single-core MD5");
        Samples md5Start = Md5Baseline.measure(64 * MIB, 3, options.md5Rounds());

        int blockSize = options.blockMiB() * MIB;
        if (options.phases().contains("large")) {
            runPhase("large blocks", () -> largeBlockPhase(blockSize));
        }
        if (options.phases().contains("small")) {
            runPhase("small blocks", this::smallBlockPhase);
        }
        if (options.phases().contains("index")) {
            runPhase("index", this::indexPhase);
        }

        log("measuring single-core MD5 again");
        Samples md5End = Md5Baseline.measure(64 * MIB, 1, options.md5Rounds());
        double[] pooled = new double[md5Start.count() + md5End.count()];
        System.arraycopy(md5Start.values(), 0, pooled, 0, md5Start.count());
        System.arraycopy(md5End.values(), 0, pooled, md5Start.count(), md5End.count());
        Samples md5 = new Samples(pooled);
        // The line is the better of the two medians: another process that slowed one of the MD5
        // measurements down must not make every ratio look better than it is.
        md5BytesPerSecond = Math.max(md5Start.median(), md5End.median());

        List<Report.Row> table = new ArrayList<>();
        table.add(new Report.Row("MD5, one core (MessageDigest, 64 MiB in 1 MiB chunks), start+end of run", "MB/s",
                scale(md5, 1e-6), 1.0, "", null,
                "medians: start " + Report.number(md5Start.median() / 1e6) + ", end "
                        + Report.number(md5End.median() / 1e6) + "; the line is the higher one, "
                        + Report.number(md5BytesPerSecond / 1e6)));
        for (PendingRow row : rows) {
            table.add(row.resolve(md5BytesPerSecond));
        }
        List<String> preamble = new ArrayList<>();
        preamble.add("run " + started + " – " + Instant.now() + ", JDK " + System.getProperty("java.version")
                + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
        preamble.add("load average before: " + loadBefore + "; after: " + loadAverage());
        preamble.add("server: " + (options.serverMain() != null ? "java -cp (driver class path) " + options.serverMain()
                : String.join(" ", serverCommandPrefix())) + (options.serverJvmOptions().isEmpty() ? ""
                : " (JVM options " + String.join(" ", options.serverJvmOptions()) + ")")
                + " -listen=127.0.0.1:PORT -volume=FRESH_DIR -data-manager-token-file=F, plus per phase: large "
                + "-max-buffers=" + RSS_MAX_BUFFERS + " -max-requests=128; small -max-buffers=16 -max-requests=256; "
                + "index -max-buffers=" + RSS_MAX_BUFFERS);
        preamble.add("large blocks: " + options.blockMiB() + " MiB, " + options.largeWarmups() + " warm-up + "
                + options.largeRepeats() + " measured rounds per figure, new random data for every PUT; "
                + "small: " + options.smallRepeats() + " × " + options.sampleSeconds() + " s samples after a warm-up");
        preamble.add("ratio = median as a fraction of the MD5 line (the higher of the start and end MD5 medians; "
                + "for requests/s: payload bytes/s ÷ MD5 bytes/s); "
                + "CPU = cores used by server / driver during the measured rounds");
        for (String problem : problems) {
            preamble.add("PROBLEM: " + problem);
        }
        String markdown = Report.markdown(preamble, table);
        Path mdFile = options.outDir().resolve("load-report.md");
        Files.writeString(mdFile, markdown);
        Map<String, List<Samples>> smallChartScaled = smallChart;
        String svg = Report.svg(new int[] {1, 2, 8}, largeChart, md5BytesPerSecond / 1e6,
                new int[] {1, 8, 64}, smallChartScaled);
        Path svgFile = options.outDir().resolve("load-report.svg");
        Files.writeString(svgFile, svg);
        System.out.println();
        System.out.println(markdown);
        System.out.println("report: " + mdFile + ", chart: " + svgFile);

        boolean missed = table.stream().anyMatch(r -> Boolean.FALSE.equals(r.met()));
        if (!problems.isEmpty()) {
            System.out.println("some phases failed; see PROBLEM lines");
            return options.check() ? 2 : 0;
        }
        if (options.check() && missed) {
            System.out.println("check: at least one goal missed");
            return 1;
        }
        return 0;
    }

    private interface Phase {
        void run() throws Exception;
    }

    private void runPhase(String name, Phase phase) {
        log("phase: " + name);
        try {
            phase.run();
        } catch (Exception e) {
            problems.add(name + ": " + e);
            System.err.println("phase " + name + " failed:");
            e.printStackTrace();
        } finally {
            stopServers();
        }
    }

    // ---------------------------------------------------------------- large blocks

    private void largeBlockPhase(int blockSize) throws Exception {
        Path volume = freshDirectory("large");
        try (ServerProcess server = startServer("large", volume, List.of(
                "-max-buffers=" + RSS_MAX_BUFFERS, "-max-requests=128"))) {
            int maxStreams = 8;
            RandomBlock[] blocks = new RandomBlock[maxStreams];
            HttpConnection[] connections = new HttpConnection[maxStreams];
            ExecutorService pool = Executors.newFixedThreadPool(maxStreams);
            List<String> stored = new ArrayList<>();
            try {
                for (int i = 0; i < maxStreams; i++) {
                    blocks[i] = new RandomBlock(blockSize);
                    connections[i] = HttpConnection.open(server.port());
                }
                List<Samples> putSeries = new ArrayList<>();
                List<Samples> getSeries = new ArrayList<>();
                Map<Integer, Samples> putBy = new LinkedHashMap<>();
                Map<Integer, Samples> getBy = new LinkedHashMap<>();
                for (int streams : new int[] {1, 2, 8}) {
                    boolean rssRound = streams == 8;
                    if (rssRound) {
                        server.resetPeakRss();
                    }
                    Measured put = largeRounds(server, streams, blocks, connections, pool, stored, true, false, blockSize);
                    long putPeakRss = server.peakRssBytes();
                    Measured get = largeRounds(server, streams, blocks, connections, pool, stored, false, false, blockSize);
                    putBy.put(streams, put.samples());
                    getBy.put(streams, get.samples());
                    putSeries.add(scale(put.samples(), 1e-6));
                    getSeries.add(scale(get.samples(), 1e-6));
                    rows.add(rateRow("PUT " + options.blockMiB() + " MiB, " + streams + " stream" + (streams > 1 ? "s" : ""),
                            put, streams == 1 ? GOAL_PUT_ONE_STREAM : Double.NaN));
                    if (streams == 2) {
                        rows.add(scalingRow("PUT: 2 streams ÷ 1 stream", putBy.get(2), putBy.get(1)));
                    }
                    rows.add(rateRow("GET " + options.blockMiB() + " MiB, " + streams + " stream" + (streams > 1 ? "s" : "")
                            + (streams == 1 ? ", block just PUT" : ""), get, streams == 1 ? GOAL_GET_ONE_STREAM : Double.NaN));
                    if (streams == 1) {
                        // The same block again and again. A directory volume reads large blocks
                        // with direct I/O where it can, so this is not a page-cache figure: it
                        // shows how much one stream moves from one read of a file to the next
                        // (where direct I/O is refused, it is the page cache's speed).
                        Measured again = largeRounds(server, 1, blocks, connections, pool, stored, false, true, blockSize);
                        rows.add(rateRow("GET " + options.blockMiB() + " MiB, 1 stream, same block again",
                                again, Double.NaN));
                    }
                    if (streams == 2) {
                        rows.add(scalingRow("GET: 2 streams ÷ 1 stream", getBy.get(2), getBy.get(1)));
                    }
                    if (rssRound) {
                        double limitMiB = RSS_MAX_BUFFERS * options.blockMiB() * 1.1 + 200;
                        double peakMiB = putPeakRss / (double) MIB;
                        rows.add(plainRow("peak server RSS, 8 concurrent PUTs, -max-buffers=" + RSS_MAX_BUFFERS,
                                "MiB", Samples.of(peakMiB), String.format(Locale.ROOT, "≤ %.0f MiB", limitMiB),
                                peakMiB <= limitMiB, "VmHWM"));
                        double allMiB = server.peakRssBytes() / (double) MIB;
                        rows.add(plainRow("peak server RSS, 8 PUTs then 8 GETs", "MiB", Samples.of(allMiB),
                                "", null, "VmHWM"));
                    }
                }
                largeChart.put("PUT " + options.blockMiB() + " MiB", putSeries);
                largeChart.put("GET " + options.blockMiB() + " MiB", getSeries);
            } finally {
                pool.shutdownNow();
                for (HttpConnection c : connections) {
                    if (c != null) {
                        c.close();
                    }
                }
            }
        } finally {
            deleteUnlessKept(volume);
        }
    }

    /** Samples in bytes/s plus the CPU cores server and driver used while they were taken. */
    private record Measured(Samples samples, double serverCores, double driverCores) {
    }

    /**
     * Warm-up and measured rounds of {@code streams} concurrent PUTs (fresh blocks) or GETs
     * (blocks stored most recently, a different one per stream and round; with
     * {@code sameBlock} the most recent one every time).
     */
    private Measured largeRounds(ServerProcess server, int streams, RandomBlock[] blocks, HttpConnection[] connections,
                                 ExecutorService pool, List<String> stored, boolean put, boolean sameBlock,
                                 int blockSize)
            throws Exception {
        int warmups = streams == 8 ? Math.min(1, options.largeWarmups()) : options.largeWarmups();
        double[] rates = new double[options.largeRepeats()];
        double serverCpu = 0;
        double driverCpu = 0;
        double wall = 0;
        for (int round = -warmups; round < options.largeRepeats(); round++) {
            List<Callable<Void>> tasks = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int s = 0; s < streams; s++) {
                HttpConnection connection = reopenIfClosed(connections, s, server.port());
                if (put) {
                    RandomBlock block = blocks[s].refill(seeds.nextLong());
                    tasks.add(() -> {
                        go.await();
                        HttpConnection.Response r = connection.put("/" + block.hash(), block.data(), true);
                        if (r.status() != 200 || !r.bodyText().startsWith(block.hash() + "+" + blockSize)) {
                            throw new IOException("PUT answered " + r.status() + ": " + r.bodyText());
                        }
                        return null;
                    });
                    synchronized (stored) {
                        stored.add(block.hash());
                    }
                } else {
                    String hash = sameBlock ? stored.get(stored.size() - 1)
                            : stored.get(Math.floorMod(stored.size() - 1 - s - (round + warmups) * streams, stored.size()));
                    // Warm-up rounds also check the content; measured rounds only count bytes, so
                    // that the driver's own hashing does not compete with the server.
                    MessageDigest check = round < 0 ? Md5Baseline.newMd5() : null;
                    tasks.add(() -> {
                        go.await();
                        HttpConnection.Response r = connection.get("/" + hash + "+" + blockSize,
                                check == null ? null : check::update);
                        if (r.status() != 200 || r.bodyLength() != blockSize) {
                            throw new IOException("GET answered " + r.status() + " with " + r.bodyLength() + " bytes");
                        }
                        if (check != null && !HexFormat.of().formatHex(check.digest()).equals(hash)) {
                            throw new IOException("GET of " + hash + " returned other content");
                        }
                        return null;
                    });
                }
            }
            List<Future<Void>> futures = new ArrayList<>();
            for (Callable<Void> task : tasks) {
                futures.add(pool.submit(task));
            }
            double serverCpuBefore = server.cpuSeconds();
            double driverCpuBefore = driverCpuSeconds();
            long start = System.nanoTime();
            go.countDown();
            for (Future<Void> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception ex ? ex : e;
                }
            }
            long elapsed = System.nanoTime() - start;
            if (round >= 0) {
                rates[round] = (double) streams * blockSize / (elapsed / 1e9);
                serverCpu += server.cpuSeconds() - serverCpuBefore;
                driverCpu += driverCpuSeconds() - driverCpuBefore;
                wall += elapsed / 1e9;
            }
        }
        log(String.format(Locale.ROOT, "  %s x%d: median %.0f MB/s", put ? "PUT" : "GET", streams,
                new Samples(rates).median() / 1e6));
        return new Measured(new Samples(rates), serverCpu / wall, driverCpu / wall);
    }

    private static HttpConnection reopenIfClosed(HttpConnection[] connections, int i, int port) throws IOException {
        if (connections[i] == null || !connections[i].isOpen()) {
            connections[i] = HttpConnection.open(port);
        }
        return connections[i];
    }

    // ---------------------------------------------------------------- small blocks

    private void smallBlockPhase() throws Exception {
        Path volume = freshDirectory("small");
        try (ServerProcess server = startServer("small", volume, List.of("-max-buffers=16", "-max-requests=256"))) {
            SmallPutSource puts = new SmallPutSource(seeds.nextLong());
            int[] levels = {1, 8, 64};
            // Warm-up: the JIT compiles the request path before anything is measured.
            SmallRequestLoad.run(server.port(), 8, Math.max(1, options.sampleSeconds()), 200, puts);
            List<Samples> putSeries = new ArrayList<>();
            for (int connections : levels) {
                Measured m = smallRounds(server, connections, puts);
                putSeries.add(m.samples());
                rows.add(requestRow("PUT 1 KiB, " + connections + " connection" + (connections > 1 ? "s" : ""), m, Double.NaN));
            }
            SmallGetSource gets = new SmallGetSource(puts.storedHashes());
            SmallRequestLoad.run(server.port(), 8, Math.max(1, options.sampleSeconds()), 200, gets);
            List<Samples> getSeries = new ArrayList<>();
            for (int connections : levels) {
                Measured m = smallRounds(server, connections, gets);
                getSeries.add(m.samples());
                rows.add(requestRow("GET 1 KiB, " + connections + " connection" + (connections > 1 ? "s" : ""), m,
                        connections == 8 ? GOAL_SMALL_GET_8 : Double.NaN));
            }
            smallChart.put("PUT 1 KiB", putSeries);
            smallChart.put("GET 1 KiB", getSeries);
        } finally {
            deleteUnlessKept(volume);
        }
    }

    private Measured smallRounds(ServerProcess server, int connections, SmallRequestLoad.RequestSource source)
            throws IOException {
        double[] rates = new double[options.smallRepeats()];
        double serverCpu = 0;
        double driverCpu = 0;
        double wall = 0;
        for (int i = 0; i < rates.length; i++) {
            double serverCpuBefore = server.cpuSeconds();
            double driverCpuBefore = driverCpuSeconds();
            long start = System.nanoTime();
            SmallRequestLoad.Result result = SmallRequestLoad.run(server.port(), connections, options.sampleSeconds(), 200, source);
            wall += (System.nanoTime() - start) / 1e9;
            serverCpu += server.cpuSeconds() - serverCpuBefore;
            driverCpu += driverCpuSeconds() - driverCpuBefore;
            if (result.failed() > 0 || result.unanswered() > 0) {
                // Reported, and fails --check, but the figure is still worth seeing.
                problems.add(String.format(Locale.ROOT, "%d connections: %d of %d requests failed (first: %s), "
                        + "%d got no response", connections, result.failed(), result.failed() + result.completed(),
                        result.firstError(), result.unanswered()));
            }
            rates[i] = result.requestsPerSecond();
        }
        log(String.format(Locale.ROOT, "  %d connections: median %.0f requests/s", connections, new Samples(rates).median()));
        return new Measured(new Samples(rates), serverCpu / wall, driverCpu / wall);
    }

    /** PUT requests of fresh 1 KiB blocks, remembering some hashes for the GET phase. */
    private static final class SmallPutSource implements SmallRequestLoad.RequestSource {
        private static final int REMEMBERED = 20_000;
        private final byte[] body = new byte[SMALL_BLOCK];
        private final MessageDigest md5 = Md5Baseline.newMd5();
        private final List<String> stored = new ArrayList<>();
        private final long nonce;
        private long counter;

        SmallPutSource(long seed) {
            new SplittableRandom(seed).nextBytes(body);
            nonce = seed;
        }

        @Override
        public ByteBuffer next(int connection) {
            long n = counter++;
            ByteBuffer stamp = ByteBuffer.wrap(body);
            stamp.putLong(nonce).putLong(n);
            md5.update(body);
            String hash = HexFormat.of().formatHex(md5.digest());
            if (stored.size() < REMEMBERED) {
                stored.add(hash);
            }
            byte[] head = ("PUT /" + hash + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + SMALL_BLOCK + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            ByteBuffer request = ByteBuffer.allocate(head.length + SMALL_BLOCK);
            request.put(head).put(body).flip();
            return request;
        }

        List<String> storedHashes() {
            return stored;
        }
    }

    /** GET requests cycling over stored 1 KiB blocks, each connection from its own offset. */
    private static final class SmallGetSource implements SmallRequestLoad.RequestSource {
        private final List<ByteBuffer> requests = new ArrayList<>();
        private final Map<Integer, Integer> cursor = new LinkedHashMap<>();

        SmallGetSource(List<String> hashes) {
            if (hashes.isEmpty()) {
                throw new IllegalStateException("no stored blocks to GET");
            }
            for (String hash : hashes) {
                requests.add(ByteBuffer.wrap(("GET /" + hash + "+" + SMALL_BLOCK + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1)));
            }
        }

        @Override
        public ByteBuffer next(int connection) {
            int i = cursor.merge(connection, 1, Integer::sum) + connection * 997;
            return requests.get(Math.floorMod(i, requests.size())).duplicate();
        }
    }

    // ---------------------------------------------------------------- index

    private void indexPhase() throws Exception {
        Path volume = freshDirectory("index");
        try {
            log("  writing " + options.indexBlocks() + " blocks in the reference directory layout");
            long expectedBytes = IndexFixture.create(volume, options.indexBlocks());
            try (ServerProcess server = startServer("index", volume, List.of("-max-buffers=" + RSS_MAX_BUFFERS));
                 HttpConnection connection = HttpConnection.open(server.port())) {
                // Warm-up: loads and compiles the index path, fills the directory cache.
                readIndex(connection, expectedBytes, null);
                // Read with jcmd, so only a JVM server has this figure (not another keepstore
                // started with --launcher for a side-by-side run); the others are measured anyway.
                Long before = liveHeapBytesIfJvm(server);
                long[] during = new long[1];
                readIndex(connection, expectedBytes, before == null ? null : () -> during[0] = server.liveHeapBytes());
                server.resetPeakRss();
                double rssBefore = server.rssBytes() / (double) MIB;
                double[] seconds = new double[Math.max(3, options.largeRepeats())];
                double serverCpu = 0;
                double wall = 0;
                for (int i = 0; i < seconds.length; i++) {
                    double cpuBefore = server.cpuSeconds();
                    long start = System.nanoTime();
                    readIndex(connection, expectedBytes, null);
                    seconds[i] = (System.nanoTime() - start) / 1e9;
                    serverCpu += server.cpuSeconds() - cpuBefore;
                    wall += seconds[i];
                }
                double rssPeak = server.peakRssBytes() / (double) MIB;
                Samples ms = scale(new Samples(seconds), 1e3);
                double bytesPerSecond = expectedBytes / new Samples(seconds).median();
                rows.add(new PendingRow("GET /index, " + options.indexBlocks() + " blocks ("
                        + Report.number(expectedBytes / 1e6) + " MB)", "ms", ms, bytesPerSecond, Double.NaN, "", null,
                        String.format(Locale.ROOT, "CPU server %.2f", serverCpu / wall)));
                String heapFigure = "server live heap growth, mid-/index vs idle (after full GC)";
                String heapGoal = String.format(Locale.ROOT, "< %.0f MiB", GOAL_INDEX_HEAP_MIB);
                if (before != null) {
                    double growthMiB = (during[0] - before) / (double) MIB;
                    rows.add(plainRow(heapFigure, "MiB", Samples.of(growthMiB), heapGoal,
                            growthMiB < GOAL_INDEX_HEAP_MIB, "jcmd GC.heap_info"));
                } else {
                    rows.add(plainRow(heapFigure, "MiB", Samples.of(Double.NaN), heapGoal, null,
                            "not measured: jcmd cannot attach to this server"));
                }
                rows.add(plainRow("server RSS during /index (peak − idle)", "MiB", Samples.of(rssPeak - rssBefore),
                        "", null, "peak " + Report.number(rssPeak) + " MiB"));
            }
        } finally {
            deleteUnlessKept(volume);
        }
    }

    /** The server's live heap, or null (and a log line) when jcmd cannot attach to it. */
    private static Long liveHeapBytesIfJvm(ServerProcess server) throws InterruptedException {
        try {
            return server.liveHeapBytes();
        } catch (IOException e) {
            log("  server live heap not measured: " + e.getMessage().lines().findFirst().orElse(""));
            return null;
        }
    }

    private interface Pause {
        void run() throws IOException, InterruptedException;
    }

    /**
     * Reads the whole index, checks that it lists every block and ends with the empty line that
     * marks completeness; {@code midway} (if not null) runs when half of it has arrived, while
     * the server is still in the middle of sending.
     */
    private static void readIndex(HttpConnection connection, long expectedBytes, Pause midway)
            throws IOException, InterruptedException {
        long[] counts = new long[2]; // bytes, newlines
        byte[] lastTwo = new byte[2];
        boolean[] paused = {midway == null};
        Exception[] pauseFailure = new Exception[1];
        HttpConnection.Response r = connection.get("/index", chunk -> {
            int n = chunk.remaining();
            for (int i = chunk.position(); i < chunk.limit(); i++) {
                byte b = chunk.get(i);
                if (b == '\n') {
                    counts[1]++;
                }
                lastTwo[0] = lastTwo[1];
                lastTwo[1] = b;
            }
            counts[0] += n;
            if (!paused[0] && counts[0] >= expectedBytes / 2) {
                paused[0] = true;
                try {
                    midway.run();
                } catch (IOException | InterruptedException e) {
                    pauseFailure[0] = e;
                }
            }
        }, "Authorization", "Bearer " + ADMIN_TOKEN);
        if (pauseFailure[0] != null) {
            throw new IOException("measuring the heap during /index failed", pauseFailure[0]);
        }
        if (r.status() != 200) {
            throw new IOException("GET /index answered " + r.status());
        }
        // expectedBytes counts the entries plus the final empty line.
        if (counts[0] != expectedBytes || lastTwo[0] != '\n' || lastTwo[1] != '\n') {
            throw new IOException("GET /index gave " + counts[0] + " bytes, " + counts[1] + " lines; expected "
                    + expectedBytes + " bytes ending with an empty line");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** How the server is started: launcher script, java -jar, or a class (tests). */
    private List<String> serverCommandPrefix() {
        List<String> command = new ArrayList<>();
        if (usesLauncher()) {
            command.add(options.launcher().toAbsolutePath().toString());
            return command;
        }
        command.add(options.java().toString());
        command.addAll(options.serverJvmOptions());
        if (options.serverMain() != null) {
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(options.serverMain());
        } else {
            command.add("-jar");
            command.add(serverJar().toString());
        }
        return command;
    }

    private boolean usesLauncher() {
        return options.serverMain() == null && options.serverJar() == null;
    }

    private Path serverJar() {
        return options.serverJar() != null ? options.serverJar() : Path.of("keep-server/target/keepstore.jar");
    }

    private ServerProcess startServer(String name, Path volume, List<String> extraArgs)
            throws IOException, InterruptedException {
        if (usesLauncher() ? !Files.isExecutable(options.launcher()) : options.serverMain() == null
                && !Files.isRegularFile(serverJar())) {
            throw new IOException("no server at " + (usesLauncher() ? options.launcher() : serverJar())
                    + " (run from the project root, or build with scripts/bench.sh)");
        }
        Path tokenFile = options.workDir().resolve("admin-token");
        Files.writeString(tokenFile, ADMIN_TOKEN + "\n");
        int port = ServerProcess.freePort();
        List<String> command = serverCommandPrefix();
        command.add("-listen=127.0.0.1:" + port);
        command.add("-volume=" + volume.toAbsolutePath());
        command.add("-data-manager-token-file=" + tokenFile.toAbsolutePath());
        command.addAll(extraArgs);
        log("  starting server: " + String.join(" ", command.subList(command.size() - extraArgs.size() - 3, command.size())));
        Map<String, String> environment = new LinkedHashMap<>();
        if (usesLauncher() && !options.serverJvmOptions().isEmpty()) {
            String existing = System.getenv("JAVA_OPTS");
            environment.put("JAVA_OPTS", (existing == null ? "" : existing + " ") + String.join(" ", options.serverJvmOptions()));
        }
        ServerProcess server = ServerProcess.start(command, environment, port,
                options.outDir().resolve("load-server-" + name + ".log"), Duration.ofSeconds(60));
        running.add(server);
        return server;
    }

    private Path freshDirectory(String name) throws IOException {
        Path dir = options.workDir().resolve(name).toAbsolutePath();
        deleteTree(dir);
        Files.createDirectories(dir);
        return dir;
    }

    private void deleteUnlessKept(Path dir) throws IOException {
        if (!options.keepVolumes()) {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            MoreFiles.deleteRecursively(dir);
        }
    }

    private static double driverCpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static Samples scale(Samples samples, double factor) {
        double[] values = samples.values().clone();
        for (int i = 0; i < values.length; i++) {
            values[i] *= factor;
        }
        return new Samples(values);
    }

    private static String cpuNote(Measured m) {
        return String.format(Locale.ROOT, "CPU server %.2f / driver %.2f", m.serverCores(), m.driverCores());
    }

    /**
     * A table line before the MD5 line is known (it is measured again at the end of the run).
     *
     * @param bytesPerSecond the data rate the ratio is computed from, or NaN for no ratio
     * @param goalRatio      the least acceptable ratio, or NaN when the ratio has no goal
     * @param met            for rows without a ratio goal: whether their goal is met, or null
     */
    private record PendingRow(String figure, String unit, Samples samples, double bytesPerSecond, double goalRatio,
                              String goal, Boolean met, String note) {

        Report.Row resolve(double md5BytesPerSecond) {
            double ratio = bytesPerSecond / md5BytesPerSecond;
            Boolean verdict = Double.isNaN(goalRatio) ? met : Boolean.valueOf(ratio >= goalRatio);
            return new Report.Row(figure, unit, samples, ratio, goal, verdict, note);
        }
    }

    private static PendingRow plainRow(String figure, String unit, Samples samples, String goal, Boolean met, String note) {
        return new PendingRow(figure, unit, samples, Double.NaN, Double.NaN, goal, met, note);
    }

    private static PendingRow rateRow(String figure, Measured m, double goal) {
        return new PendingRow(figure, "MB/s", scale(m.samples(), 1e-6), m.samples().median(), goal,
                Double.isNaN(goal) ? "" : String.format(Locale.ROOT, "≥ %.2f × MD5", goal), null, cpuNote(m));
    }

    private static PendingRow requestRow(String figure, Measured m, double goal) {
        return new PendingRow(figure, "req/s", m.samples(), m.samples().median() * SMALL_BLOCK, goal,
                Double.isNaN(goal) ? "" : String.format(Locale.ROOT, "≥ %.3f × MD5 (60,000 req/s at 0.9 GB/s)", goal),
                null, cpuNote(m));
    }

    private static PendingRow scalingRow(String figure, Samples two, Samples one) {
        double factor = two.median() / one.median();
        return plainRow(figure, "×", Samples.of(factor), String.format(Locale.ROOT, "≥ %.1f", GOAL_TWO_STREAM_SCALING),
                factor >= GOAL_TWO_STREAM_SCALING, "ratio of medians");
    }

    private static void log(String message) {
        System.out.println("[" + Instant.now().toString().substring(11, 19) + "] " + message);
    }
}
