package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 100,000 CancelRequests with keys that match no session, each on its own connection as the
 * protocol has it, while a victim runs a long statement: nothing is cancelled, the proxy keeps
 * serving, and the requests are counted and reported in a bounded number of log lines.
 *
 * <p>A quarter of the keys are entirely random; the rest aim at the victim: its pgbailiff process
 * id with a random secret, its backend's real process id with a random secret, and its pgbailiff
 * process id with a secret of protocol 3.2 length.
 */
class CancelKeyFloodIT extends ProxyTestBase {
    private static final int REQUESTS = Integer.getInteger("pgbailiff.cancelflood.requests", 100_000);
    private static final int CONCURRENCY = 32;
    private static final String MARKER = "flood-victim-statement";
    private static final String REPORTER = "io.pgbailiff.proxy.CancelKeys";
    private static final Pattern REPORTED = Pattern.compile("(\\d+) cancel request\\(s\\) matched no session");

    @Test
    void randomCancelKeysCancelNothingAndAreCountedAndLoggedAtABoundedRate() throws Exception {
        try (RawPgClient victim = new RawPgClient(proxy.port())) {
            victim.send(RawPgClient.startupPacket(196608, Map.of("user", "bob", "database", "postgres",
                    "application_name", "flood-victim")));
            RawPgClient.Message key = victim.readUntil('K');
            victim.readUntil('Z');
            int victimProxyPid = key.buffer().getInt();
            byte[] victimSecret = Arrays.copyOfRange(key.body(), 4, key.body().length);
            victim.send(RawPgClient.query("SELECT pg_sleep(600) /* " + MARKER + " */"));
            SessionSnapshot running = proxy.awaitRunning("flood-victim", MARKER);
            int victimBackendPid = running.backendPid();

            long countedBefore = proxy.server().unmatchedCancelRequests();
            int linesBefore = ProxyLogRecorder.from(REPORTER).size();
            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong served = new AtomicLong();
            AtomicLong slowest = new AtomicLong();
            ExecutorService bystanderThread = Executors.newSingleThreadExecutor();
            Future<?> bystander = bystanderThread.submit(() -> {
                try (Connection c = proxy.connect("alice", null, "ApplicationName", "flood-bystander");
                     Statement s = c.createStatement()) {
                    while (flooding.get()) {
                        long t = System.nanoTime();
                        ResultSet rs = s.executeQuery("SELECT 1");
                        rs.next();
                        slowest.accumulateAndGet(System.nanoTime() - t, Math::max);
                        served.incrementAndGet();
                        Thread.sleep(20);
                    }
                }
                return null;
            });

            long start = System.nanoTime();
            int sent;
            try {
                sent = flood(victimProxyPid, victimSecret, victimBackendPid);
            } finally {
                flooding.set(false);
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            bystander.get(30, TimeUnit.SECONDS);
            bystanderThread.shutdown();
            System.out.println("CancelKeyFloodIT: " + sent + " cancel requests on as many connections in " + millis + " ms ("
                    + (sent * 1000L / Math.max(1, millis)) + "/s); the bystander ran " + served.get()
                    + " statements meanwhile, the slowest in " + TimeUnit.NANOSECONDS.toMillis(slowest.get()) + " ms");

            assertEquals(REQUESTS, sent);
            assertEquals(REQUESTS, proxy.server().unmatchedCancelRequests() - countedBefore, "every request counted as unmatched");
            assertTrue(served.get() > 0, "the proxy kept serving other sessions during the flood");

            SessionSnapshot after = proxy.session("flood-victim");
            assertEquals(SessionStatus.ACTIVE, after.status(), "the victim's statement was not cancelled");
            assertEquals(running.activeQuerySequence(), after.activeQuerySequence(), "it is the same statement");
            assertEquals(1, BackendActivity.activeBackendsWithQuery(MARKER), "the backend still executes it");
            assertTrue(BackendActivity.backendExists(victimBackendPid));

            // the summary lines come at most once per interval; the last one follows the flood within an interval
            Waits.until(() -> reportedSince(linesBefore) == REQUESTS, Duration.ofSeconds(25),
                    () -> "the log lines sum up all " + REQUESTS + " requests; they say " + reportedSince(linesBefore)
                            + " in " + ProxyLogRecorder.from(REPORTER).subList(linesBefore, ProxyLogRecorder.from(REPORTER).size()));
            int lines = ProxyLogRecorder.from(REPORTER).size() - linesBefore;
            long bound = millis / 10_000 + 2;
            System.out.println("CancelKeyFloodIT: reported in " + lines + " log line(s)");
            assertTrue(lines >= 1 && lines <= bound, lines + " log lines for a flood of " + millis + " ms (at most " + bound + ")");

            // the real key still cancels: the flood did not break the cancel path
            sendOne(RawPgClient.cancelRequest(victimProxyPid, victimSecret));
            RawPgClient.Message error;
            do {
                error = victim.read();
            } while (error.type() == 'T');
            assertEquals('E', error.type(), error.toString());
            assertEquals("57014", error.fields().get('C'));
            victim.readUntil('Z');
        }
    }

    /** Sends the requests from many threads, one connection each; returns how many went out. */
    private static int flood(int victimProxyPid, byte[] victimSecret, int victimBackendPid) throws Exception {
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        try {
            List<Future<Integer>> workers = new java.util.ArrayList<>();
            for (int w = 0; w < CONCURRENCY; w++) {
                workers.add(pool.submit(() -> {
                    int done = 0;
                    int i;
                    while ((i = next.getAndIncrement()) < REQUESTS) {
                        SplittableRandom r = new SplittableRandom(i);
                        byte[] packet = switch (i % 4) {
                            case 0 -> RawPgClient.cancelRequest(r.nextInt(), randomSecret(r, 4, null));
                            case 1 -> RawPgClient.cancelRequest(victimProxyPid, randomSecret(r, 4, victimSecret));
                            case 2 -> RawPgClient.cancelRequest(victimBackendPid, randomSecret(r, 4, victimSecret));
                            default -> RawPgClient.cancelRequest(victimProxyPid, randomSecret(r, r.nextInt(5, 257), null));
                        };
                        sendOne(packet);
                        done++;
                    }
                    return done;
                }));
            }
            int total = 0;
            for (Future<Integer> f : workers) {
                total += f.get(5, TimeUnit.MINUTES);
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] randomSecret(SplittableRandom r, int length, byte[] avoid) {
        byte[] secret = new byte[length];
        do {
            r.nextBytes(secret);
        } while (avoid != null && Arrays.equals(secret, avoid));
        return secret;
    }

    /** One CancelRequest on its own connection; the server closes it, so the wait state stays on its side. */
    private static void sendOne(byte[] packet) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 10_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(packet);
            InputStream in = s.getInputStream();
            if (in.read() != -1) {
                throw new IOException("the proxy answered a CancelRequest");
            }
        }
    }

    private static long reportedSince(int linesBefore) {
        List<ProxyLogRecorder.Line> lines = ProxyLogRecorder.from(REPORTER);
        long sum = 0;
        for (ProxyLogRecorder.Line l : lines.subList(linesBefore, lines.size())) {
            Matcher m = REPORTED.matcher(l.message());
            if (m.find()) {
                sum += Long.parseLong(m.group(1));
            }
        }
        return sum;
    }
}
