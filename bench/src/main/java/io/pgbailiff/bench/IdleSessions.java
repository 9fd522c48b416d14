package io.pgbailiff.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory per idle session and SHOW SESSIONS latency.
 *
 * <p>Opens idle sessions through a proxy in steps (e.g. 1000, then 5000), each running one statement
 * ({@code --first-query}, default {@code SELECT 1}) before it idles, and at each step reads the
 * proxy process's resident memory ({@code VmRSS}); the marginal cost is the growth over the
 * baseline taken after a warm-up, divided by the number of sessions. For a JVM ({@code --jvm})
 * a full GC is requested with jcmd before each reading, and the live heap is reported as well.
 * With {@code --show-sessions N} it times N {@code SHOW SESSIONS} round trips at each step; with
 * {@code --direct-port P} as well, it times PostgreSQL's own listing of its sessions, {@code SELECT *
 * FROM pg_stat_activity} straight to the server on that port, after them: the same sessions are
 * open, as every session through the proxy has its backend.
 *
 * <p>Prints one {@code key=value} line per figure, prefixed {@code idle} or {@code show_sessions}.
 */
public final class IdleSessions {
    private IdleSessions() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        String host = a.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(a.get("port"));
        String user = a.getOrDefault("user", "postgres");
        String database = a.getOrDefault("database", "postgres");
        String label = a.getOrDefault("label", "proxy");
        long pid = Long.parseLong(a.get("pid"));
        boolean jvm = a.containsKey("jvm");
        boolean nmt = a.containsKey("nmt"); // the JVM runs with -XX:NativeMemoryTracking=summary
        boolean histogram = jvm && a.containsKey("histogram");
        int[] counts = Arrays.stream(a.getOrDefault("counts", "1000,5000").split(",")).mapToInt(Integer::parseInt)
                .sorted().distinct().toArray();
        int showIterations = Integer.parseInt(a.getOrDefault("show-sessions", "0"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "500"));
        int directPort = Integer.parseInt(a.getOrDefault("direct-port", "0"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "8"));
        // An idle session is one that has done something: PgBouncer gives a client its server
        // connection only at its first statement, and then keeps it for the session.
        String firstQuery = a.getOrDefault("first-query", "SELECT 1");

        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            // Warm-up: the first connections load classes, compile code and grow buffers and heap.
            List<RawPg> warm = open(pool, host, port, user, database, firstQuery, warmup);
            closeAll(warm);
            Thread.sleep(1000);
            Reading base = read(pid, jvm);
            System.out.printf("idle label=%s count=0 rss_kb=%d heap_used_kb=%d%n", label, base.rssKb, base.heapUsedKb);
            if (nmt) {
                jcmd(pid, "VM.native_memory baseline");
            }
            Map<String, Long> baseHistogram = histogram ? histogram(pid) : Map.of();

            List<RawPg> sessions = new ArrayList<>();
            try (RawPg control = showIterations > 0 ? RawPg.connect(host, port, user, database, "bench-control") : null;
                 RawPg direct = showIterations > 0 && directPort > 0
                         ? RawPg.connect(host, directPort, user, database, "bench-control") : null) {
                for (int count : counts) {
                    long t0 = System.nanoTime();
                    sessions.addAll(open(pool, host, port, user, database, firstQuery, count - sessions.size()));
                    double openSeconds = (System.nanoTime() - t0) / 1e9;
                    Thread.sleep(1000);
                    long rawRss = rssKb(pid);
                    Reading r = read(pid, jvm);
                    System.out.printf("idle label=%s count=%d rss_kb=%d rss_nogc_kb=%d heap_used_kb=%d"
                                    + " per_session_bytes=%.0f per_session_nogc_bytes=%.0f heap_per_session_bytes=%.0f"
                                    + " open_seconds=%.1f%n",
                            label, count, r.rssKb, rawRss, r.heapUsedKb,
                            (r.rssKb - base.rssKb) * 1024.0 / count, (rawRss - base.rssKb) * 1024.0 / count,
                            jvm ? (r.heapUsedKb - base.heapUsedKb) * 1024.0 / count : Double.NaN, openSeconds);
                    if (nmt) {
                        printNmtDiff(label, count, jcmd(pid, "VM.native_memory summary.diff"));
                    }
                    if (histogram && count == counts[counts.length - 1]) {
                        printHistogramDiff(label, count, baseHistogram, histogram(pid));
                    }
                    if (control != null) {
                        showSessions(control, direct, label, count, showIterations);
                    }
                }
            } finally {
                closeAll(sessions);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static final String SHOW_SESSIONS = "SHOW SESSIONS";
    private static final String PG_STAT_ACTIVITY = "SELECT * FROM pg_stat_activity";

    /**
     * Times the proxy's listing and then, if {@code direct} is given, PostgreSQL's own. One after
     * the other rather than in turns: each PostgreSQL listing takes a few milliseconds of CPU, which
     * in turns would slow the proxy's next one down on a machine of two cores.
     */
    private static void showSessions(RawPg control, RawPg direct, String label, int count, int iterations)
            throws IOException {
        timeListing(control, SHOW_SESSIONS, label, count, iterations);
        if (direct != null) {
            timeListing(direct, PG_STAT_ACTIVITY, "postgres", count, iterations);
        }
    }

    private static void timeListing(RawPg connection, String statement, String label, int count, int iterations)
            throws IOException {
        // half as many untimed first: both JVMs compile the listing and reading code by then
        for (int i = 0; i < Math.max(10, iterations / 2); i++) {
            connection.query(statement);
        }
        long[] micros = new long[iterations];
        int rows = 0;
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            rows = connection.query(statement);
            micros[i] = (System.nanoTime() - t0) / 1000;
        }
        printLatencies(label, statement, count, rows, micros);
    }

    private static void printLatencies(String label, String statement, int count, int rows, long[] micros) {
        Arrays.sort(micros);
        System.out.printf("show_sessions label=%s statement=%s count=%d rows=%d n=%d p50_us=%d p99_us=%d max_us=%d"
                        + " mean_us=%.0f%n",
                label, statement.replace(' ', '+'), count, rows, micros.length, Stats.percentile(micros, 50),
                Stats.percentile(micros, 99), micros[micros.length - 1], Arrays.stream(micros).average().orElse(0));
    }

    private static final Pattern NMT_CATEGORY = Pattern.compile(
            "^-\\s+(\\S[^(]*?)\\s+\\(reserved=\\d+KB[^,]*, committed=(\\d+)KB(?: ([+-]\\d+)KB)?\\)", Pattern.MULTILINE);

    /** One line per Native Memory Tracking category whose committed memory grew since the baseline. */
    private static void printNmtDiff(String label, int count, String diff) {
        Matcher m = NMT_CATEGORY.matcher(diff);
        while (m.find()) {
            if (m.group(3) != null && !m.group(3).equals("+0")) {
                long kb = Long.parseLong(m.group(3));
                System.out.printf("nmt label=%s count=%d category=%s committed_diff_kb=%d per_session_bytes=%.0f%n",
                        label, count, m.group(1).trim().replace(' ', '_'), kb, kb * 1024.0 / count);
            }
        }
    }

    private static final Pattern HISTOGRAM_ROW = Pattern.compile("^\\s*\\d+:\\s+\\d+\\s+(\\d+)\\s+(\\S+)", Pattern.MULTILINE);

    /** Bytes of live objects per class (jcmd GC.class_histogram, which collects first). */
    private static Map<String, Long> histogram(long pid) throws Exception {
        Map<String, Long> bytes = new java.util.HashMap<>();
        Matcher m = HISTOGRAM_ROW.matcher(jcmd(pid, "GC.class_histogram"));
        while (m.find()) {
            bytes.merge(m.group(2), Long.parseLong(m.group(1)), Long::sum);
        }
        return bytes;
    }

    /** The classes whose live bytes grew most, per session: what an idle session is made of. */
    private static void printHistogramDiff(String label, int count, Map<String, Long> before, Map<String, Long> after) {
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(Integer.getInteger("histogram.top", 15))
                .forEach(e -> System.out.printf("heap_class label=%s count=%d class=%s per_session_bytes=%.0f%n",
                        label, count, e.getKey(), e.getValue() / (double) count));
    }

    private static List<RawPg> open(ExecutorService pool, String host, int port, String user, String database,
            String firstQuery, int n) throws Exception {
        List<RawPg> opened = Collections.synchronizedList(new ArrayList<>(n));
        List<Future<?>> futures = new ArrayList<>();
        int threads = Math.max(1, Math.min(n, ((java.util.concurrent.ThreadPoolExecutor) pool).getCorePoolSize()));
        for (int t = 0; t < threads; t++) {
            int share = n / threads + (t < n % threads ? 1 : 0);
            futures.add(pool.submit(() -> {
                for (int i = 0; i < share; i++) {
                    RawPg pg = RawPg.connect(host, port, user, database, "bench-idle");
                    opened.add(pg);
                    if (!firstQuery.isEmpty()) {
                        pg.query(firstQuery);
                    }
                }
                return null;
            }));
        }
        try {
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.MINUTES);
            }
        } catch (Exception e) {
            closeAll(opened);
            throw e;
        }
        return new ArrayList<>(opened);
    }

    private static void closeAll(List<RawPg> sessions) {
        synchronized (sessions) {
            sessions.forEach(RawPg::close);
            sessions.clear();
        }
    }

    private record Reading(long rssKb, long heapUsedKb) {
    }

    private static Reading read(long pid, boolean jvm) throws Exception {
        long heap = -1;
        if (jvm) {
            jcmd(pid, "GC.run");
            Thread.sleep(500);
            heap = heapUsedKb(jcmd(pid, "GC.heap_info"));
        }
        return new Reading(rssKb(pid), heap);
    }

    static long rssKb(long pid) throws IOException {
        return statusKb(pid, "VmRSS:");
    }

    static long statusKb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IOException(field + " not in /proc/" + pid + "/status");
    }

    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

    /** Sums the "used" of every heap space jcmd GC.heap_info lists (G1: one line; serial/parallel: one per generation). */
    static long heapUsedKb(String heapInfo) {
        long used = 0;
        Matcher m = HEAP_USED.matcher(heapInfo);
        while (m.find()) {
            used += Long.parseLong(m.group(1));
        }
        return used;
    }

    static String jcmd(long pid, String command) throws Exception {
        String javaHome = System.getProperty("java.home");
        Path jcmd = Path.of(javaHome, "bin", "jcmd");
        Process p = new ProcessBuilder(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", Long.toString(pid), command)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("jcmd " + pid + " " + command + " failed: " + out);
        }
        return out;
    }
}
