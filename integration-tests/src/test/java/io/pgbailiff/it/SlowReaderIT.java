package io.pgbailiff.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that reads a 1 GB result slowly, then not at all: pgbailiff's buffer memory stays
 * flat (the backend is held back instead), another session's statements keep their latency,
 * and the stalled statement or session can still be cancelled from another connection.
 */
class SlowReaderIT extends ProxyTestBase {
    /** 1,000,000 rows of 1,000 characters: about 1 GB on the wire. */
    private static final String GIGABYTE = "SELECT repeat('x', 1000) FROM generate_series(1, 1000000)";
    /** What the proxy may hold for a session whatever its result size: a few reads and the write high-water mark. */
    private static final long MEMORY_BOUND = 16L << 20;
    private static final long LATENCY_P99_BOUND_MILLIS = 200;
    private static final Duration PHASE = Duration.ofSeconds(4);

    @Test
    void stalledReaderOfAGigabyteKeepsMemoryFlatAndOthersFastAndItsStatementCanBeCancelled() throws Exception {
        long baseline = ProxyResources.bufferMemory();
        try (RawPgClient raw = new RawPgClient(proxy.port(), 64 * 1024);
             LatencyProbe probe = new LatencyProbe("slow-probe")) {
            Stream stream = start(raw, "slow-query");
            long peak = readSlowlyThenStall(stream, baseline);
            List<Long> latencies = probe.stop();
            long p99 = percentile(latencies, 99);
            System.out.println("SlowReaderIT: read " + (stream.bytes >> 20) + " MB slowly, then stalled; proxy buffer memory peak +"
                    + (peak >> 10) + " KB; other session: " + latencies.size() + " statements, p50 " + percentile(latencies, 50)
                    + " ms, p99 " + p99 + " ms, max " + percentile(latencies, 100) + " ms");
            assertTrue(peak < MEMORY_BOUND, "proxy buffer memory grew by " + peak + " bytes (bound " + MEMORY_BOUND + ")");
            assertTrue(latencies.size() > 50, "the other session ran " + latencies.size() + " statements");
            assertTrue(p99 < LATENCY_P99_BOUND_MILLIS, "the other session's p99 latency was " + p99 + " ms");

            long stalledAt = stream.bytes;
            assertEquals("CANCEL QUERIES 1",
                    commandTag("CANCEL QUERIES (SELECT query_id FROM [SHOW QUERIES] WHERE application_name = 'slow-query')"));
            // the backend notices the cancel when it can write again: the reader resumes and gets 57014 soon after
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!stream.ready && System.nanoTime() < deadline) {
                stream.read(1 << 20);
            }
            assertTrue(stream.ready, "the cancelled statement ended; read " + (stream.bytes >> 20) + " MB");
            assertEquals("57014", stream.error == null ? null : stream.error.get('C'), "cancelled: " + stream.error);
            long after = stream.bytes - stalledAt;
            System.out.println("SlowReaderIT: after CANCEL QUERY the reader got " + (after >> 10) + " KB more, then 57014");
            assertTrue(stream.bytes < 900L << 20, "the statement ended long before its gigabyte: " + stream.bytes);
            raw.send(RawPgClient.query("SELECT 'still connected'"));
            stream.reset();
            long answered = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!stream.ready && System.nanoTime() < answered) {
                stream.read(1 << 16);
            }
            assertTrue(stream.ready, "the next statement was answered");
            assertEquals(null, stream.error, "the session is usable after the cancel");
        }
        proxy.awaitGone("slow-query");
    }

    @Test
    void stalledReaderOfAGigabyteCanBeEndedWithCancelSession() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port(), 64 * 1024)) {
            Stream stream = start(raw, "slow-session");
            int backendPid = proxy.session("slow-session").backendPid();
            long deadline = System.nanoTime() + PHASE.toNanos();
            while (System.nanoTime() < deadline) {
                stream.read(64 * 1024);
                Thread.sleep(10);
            }
            Thread.sleep(1000); // stalled: the socket buffers and the proxy's write buffer fill up
            assertTrue(ProxyResources.serverSideOpen(proxy.port(), raw.localPort()), "the proxy holds the client's connection");
            assertEquals("CANCEL SESSIONS 1",
                    commandTag("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE application_name = 'slow-session')"));
            proxy.awaitSessions(l -> l.stream().noneMatch(s -> "slow-session".equals(s.applicationName())),
                    Duration.ofSeconds(10), "the stalled session was removed while its client still did not read");
            Waits.until(() -> !BackendActivity.backendExists(backendPid), Duration.ofSeconds(10),
                    "the stalled session's backend process ended");
            Waits.until(() -> !ProxyResources.serverSideOpen(proxy.port(), raw.localPort()), Duration.ofSeconds(30),
                    "the proxy let go of the stalled client's socket, though the client never read again");
            long more = 0;
            try {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!stream.closed && System.nanoTime() < end) {
                    more += stream.read(1 << 20);
                }
            } catch (IOException reset) {
                stream.closed = true;
            }
            assertTrue(stream.closed, "the client's connection was closed; it read " + (more >> 10) + " KB more");
        }
    }

    /** Runs a statement as a superuser on a connection of its own and returns its command tag. */
    private static String commandTag(String sql) throws IOException {
        try (RawPgClient admin = new RawPgClient(proxy.port())) {
            admin.logIn(Map.of("user", "postgres", "database", "postgres"));
            admin.send(RawPgClient.query(sql));
            RawPgClient.Message complete = admin.readUntil('C');
            admin.readUntil('Z');
            return new String(complete.body(), 0, complete.body().length - 1, StandardCharsets.UTF_8);
        }
    }

    private static Stream start(RawPgClient raw, String app) throws IOException {
        raw.logIn(Map.of("user", "bob", "database", "postgres", "application_name", app));
        raw.send(RawPgClient.query(GIGABYTE));
        proxy.awaitRunning(app, "generate_series(1, 1000000)");
        return new Stream(raw.input());
    }

    /** Reads about 6 MB/s for a while, then nothing for a while, sampling the proxy's buffer memory. */
    private static long readSlowlyThenStall(Stream stream, long baseline) throws Exception {
        long peak = 0;
        long slowUntil = System.nanoTime() + PHASE.toNanos();
        while (System.nanoTime() < slowUntil) {
            stream.read(64 * 1024);
            peak = Math.max(peak, ProxyResources.bufferMemory() - baseline);
            Thread.sleep(10);
        }
        long stallUntil = System.nanoTime() + PHASE.toNanos();
        while (System.nanoTime() < stallUntil) {
            peak = Math.max(peak, ProxyResources.bufferMemory() - baseline);
            Thread.sleep(50);
        }
        return peak;
    }

    private static long percentile(List<Long> values, int p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        if (sorted.isEmpty()) {
            return -1;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size()); // nearest rank
        return sorted.get(Math.max(0, Math.min(sorted.size(), rank) - 1));
    }

    /** The backend message stream as the slow client reads it, parsed just enough to find the end. */
    private static final class Stream {
        private final InputStream in;
        private final byte[] header = new byte[5];
        private int headerFill;
        private long bodyLeft;
        private char type;
        private byte[] body;
        private int bodyFill;
        long bytes;
        boolean ready;
        boolean closed;
        Map<Character, String> error;

        Stream(InputStream in) {
            this.in = in;
        }

        void reset() {
            ready = false;
            error = null;
        }

        /** Reads what is there, up to {@code max} bytes, waiting at most a little; returns the count. */
        int read(int max) throws IOException {
            byte[] buf = new byte[Math.min(max, 64 * 1024)];
            int total = 0;
            while (total < max && !ready) {
                int n;
                try {
                    n = in.read(buf, 0, Math.min(buf.length, max - total));
                } catch (SocketTimeoutException e) {
                    break;
                }
                if (n < 0) {
                    closed = true;
                    break;
                }
                parse(buf, n);
                total += n;
                bytes += n;
                if (in.available() == 0) {
                    break;
                }
            }
            return total;
        }

        private void parse(byte[] buf, int n) {
            int i = 0;
            while (i < n) {
                if (headerFill < 5) {
                    header[headerFill++] = buf[i++];
                    if (headerFill == 5) {
                        type = (char) header[0];
                        bodyLeft = (((header[1] & 0xffL) << 24) | ((header[2] & 0xff) << 16) | ((header[3] & 0xff) << 8)
                                | (header[4] & 0xff)) - 4;
                        boolean keep = type == 'E' || type == 'Z';
                        body = keep ? new byte[(int) bodyLeft] : null;
                        bodyFill = 0;
                        if (bodyLeft == 0) {
                            endMessage();
                        }
                    }
                    continue;
                }
                int take = (int) Math.min(bodyLeft, n - i);
                if (body != null) {
                    System.arraycopy(buf, i, body, bodyFill, take);
                    bodyFill += take;
                }
                i += take;
                bodyLeft -= take;
                if (bodyLeft == 0) {
                    endMessage();
                }
            }
        }

        private void endMessage() {
            if (type == 'E') {
                error = new RawPgClient.Message('E', body).fields();
            } else if (type == 'Z') {
                ready = true;
            }
            headerFill = 0;
        }
    }

    /** Runs SELECT 1 on its own connection every 10 ms and records how long each took. */
    private static final class LatencyProbe implements AutoCloseable {
        private final ExecutorService thread = Executors.newSingleThreadExecutor();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Long> millis = Collections.synchronizedList(new ArrayList<>());
        private final Future<?> done;

        LatencyProbe(String app) {
            done = thread.submit(() -> {
                try (Connection c = proxy.connect("alice", null, "ApplicationName", app); Statement s = c.createStatement()) {
                    while (running.get()) {
                        long t = System.nanoTime();
                        try (ResultSet rs = s.executeQuery("SELECT 1")) {
                            rs.next();
                        }
                        millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
                        Thread.sleep(10);
                    }
                }
                return null;
            });
        }

        List<Long> stop() throws Exception {
            running.set(false);
            done.get(10, TimeUnit.SECONDS);
            return new ArrayList<>(millis);
        }

        @Override
        public void close() {
            running.set(false);
            thread.shutdownNow();
        }
    }
}
