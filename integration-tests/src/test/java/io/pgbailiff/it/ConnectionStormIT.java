package io.pgbailiff.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 2,000 clients connect at once and go away again: some before sending anything, some halfway
 * through the startup packet, some while pgbailiff is opening or authenticating their backend
 * connection, some after a statement (all of those at the same moment), some by resetting the
 * connection mid-statement. Afterwards no session, backend connection or file descriptor is left
 * (and, at class end, no buffer: Netty's leak detection runs at PARANOID), a bystander session is
 * untouched, and pgbailiff serves as before.
 *
 * <p>The backend allows 300 connections, fewer than the clients that ask for one: those beyond
 * get PostgreSQL's own FATAL 53300, relayed.
 */
class ConnectionStormIT extends ProxyTestBase {
    private static final int CLIENTS = Integer.getInteger("pgbailiff.storm.clients", 2000);
    private static final String DATABASE = "storm_it";
    private static final Duration SETTLE = Duration.ofSeconds(30);

    private enum Kind {
        /** Connects and closes without a byte. */
        SILENT,
        /** Connects and resets the connection. */
        RESET,
        /** Sends part of the startup packet and closes. */
        HALF_STARTUP,
        /** Sends the startup packet and closes at once, while pgbailiff opens the backend connection. */
        STARTUP_THEN_CLOSE,
        /** Closes after the first byte of the answer, during authentication. */
        CLOSE_DURING_AUTHENTICATION,
        /** Sends SSLRequest and closes after the answer. */
        SSL_REQUEST,
        /** A whole session: startup, a statement, then waits for every such session and disconnects with them. */
        SESSION,
        /** Starts a statement and resets the connection while it runs. */
        RESET_MID_STATEMENT
    }

    @BeforeAll
    static void createDatabase() throws SQLException {
        TestPostgres.recreateDatabase(DATABASE);
    }

    @AfterAll
    static void dropDatabase() throws SQLException {
        TestPostgres.dropDatabase(DATABASE);
    }

    @Test
    void twoThousandClientsConnectingAndLeavingAtOnceLeaveNothingBehind() throws Exception {
        int baselineFds = ProxyResources.openFileDescriptors();
        int errorsBefore = ProxyLogRecorder.errors().size();
        try (Bystander bystander = Bystander.open(proxy, "bob", "storm-bystander", 2000)) {

            Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
            CountDownLatch go = new CountDownLatch(1);
            int sessions = (int) java.util.stream.IntStream.range(0, CLIENTS).filter(i -> kind(i) == Kind.SESSION).count();
            CountDownLatch sessionsSettled = new CountDownLatch(sessions);
            CountDownLatch leave = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int n = i;
                Thread t = new Thread(() -> {
                    String outcome;
                    java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean();
                    Runnable settled = () -> {
                        if (kind(n) == Kind.SESSION && counted.compareAndSet(false, true)) {
                            sessionsSettled.countDown();
                        }
                    };
                    try {
                        go.await();
                        outcome = client(n, settled, leave);
                    } catch (Exception e) {
                        outcome = kind(n) + " " + e.getClass().getSimpleName();
                    } finally {
                        settled.run();
                    }
                    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                }, "storm-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            long start = System.nanoTime();
            go.countDown();
            assertTrue(sessionsSettled.await(2, TimeUnit.MINUTES), "no session client hung");
            leave.countDown();
            for (Thread t : threads) {
                t.join(TimeUnit.MINUTES.toMillis(2));
                assertFalse(t.isAlive(), t.getName() + " finished");
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            Map<String, Long> summary = new TreeMap<>();
            outcomes.forEach((k, v) -> summary.put(k, v.sum()));
            System.out.println("ConnectionStormIT: " + CLIENTS + " clients in " + millis + " ms: " + summary);

            long served = summary.getOrDefault("SESSION served", 0L);
            assertTrue(served >= 50, "whole sessions were served during the storm: " + summary);
            for (String outcome : summary.keySet()) {
                assertTrue(outcome.endsWith("served") || outcome.endsWith("closed") || outcome.endsWith("53300")
                        , "an expected outcome: " + outcome + " in " + summary);
            }

            List<ProxyLogRecorder.Line> errors = ProxyLogRecorder.errors();
            assertEquals(List.of(), errors.subList(errorsBefore, errors.size()), "pgbailiff logged no error");

            proxy.awaitSessions(bystander::isAloneIn, SETTLE, "no storm session left in the registry");
            Waits.until(() -> BackendActivity.backendsOnDatabase(DATABASE) == 0, SETTLE,
                    () -> "no backend connection of the storm left; still " + BackendActivity.backendsOnDatabase(DATABASE));

            bystander.assertUntouched();
            try (Connection fresh = proxy.connect("alice", null, "dbname", DATABASE); Statement s = fresh.createStatement()) {
                assertTrue(s.executeQuery("SELECT 1").next(), "pgbailiff serves after the storm");
            }
        }
        proxy.awaitSessions(List::isEmpty, SETTLE, "every session ended");
        Waits.until(() -> ProxyResources.openFileDescriptors() <= baselineFds + 10, SETTLE,
                () -> "open file descriptors back to " + baselineFds + " (+10); now " + ProxyResources.openFileDescriptors());
        System.out.println("ConnectionStormIT: open file descriptors " + baselineFds + " before, "
                + ProxyResources.openFileDescriptors() + " after");
    }

    private static Kind kind(int i) {
        return Kind.values()[i % Kind.values().length];
    }

    /** One client of the storm; returns its kind and how it ended. */
    private static String client(int i, Runnable settled, CountDownLatch leave) throws Exception {
        Kind kind = kind(i);
        byte[] startup = RawPgClient.startupPacket(196608, Map.of("user", "alice", "database", DATABASE,
                "application_name", "storm-" + i));
        try (Socket s = new Socket()) {
            s.setSoTimeout(60_000);
            s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 30_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            switch (kind) {
                case SILENT -> {
                    return kind + " closed";
                }
                case RESET -> {
                    s.setSoLinger(true, 0);
                    return kind + " closed";
                }
                case HALF_STARTUP -> {
                    out.write(startup, 0, 1 + i % (startup.length - 1));
                    out.flush();
                    return kind + " closed";
                }
                case STARTUP_THEN_CLOSE -> {
                    out.write(startup);
                    out.flush();
                    return kind + " closed";
                }
                case CLOSE_DURING_AUTHENTICATION -> {
                    out.write(startup);
                    out.flush();
                    in.read();
                    return kind + " closed";
                }
                case SSL_REQUEST -> {
                    out.write(RawPgClient.sslRequest());
                    out.flush();
                    in.read();
                    return kind + " closed";
                }
                case SESSION -> {
                    String answer;
                    out.write(startup);
                    out.flush();
                    String error = untilReady(in);
                    if (error == null) {
                        out.write(RawPgClient.query("SELECT 'storm'"));
                        out.flush();
                        error = untilReady(in);
                    }
                    answer = error == null ? "served" : error;
                    settled.run();
                    leave.await();
                    switch (i % 3) {
                        case 0 -> out.write(RawPgClient.message('X', new byte[0]));
                        case 1 -> s.setSoLinger(true, 0);
                        default -> {
                        }
                    }
                    return kind + " " + answer;
                }
                case RESET_MID_STATEMENT -> {
                    out.write(startup);
                    out.flush();
                    String error = untilReady(in);
                    if (error != null) {
                        return kind + " " + error;
                    }
                    out.write(RawPgClient.query("SELECT pg_sleep(5)"));
                    out.flush();
                    Thread.sleep(50 + i % 200);
                    s.setSoLinger(true, 0);
                    return kind + " closed";
                }
                default -> throw new IllegalStateException();
            }
        }
    }

    /** Reads until ReadyForQuery (null) or an ErrorResponse (its SQLSTATE). */
    private static String untilReady(DataInputStream in) throws IOException {
        while (true) {
            int type = in.read();
            if (type < 0) {
                throw new EOFException("closed before ReadyForQuery");
            }
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'Z') {
                return null;
            }
            if (type == 'E') {
                Map<Character, String> fields = new RawPgClient.Message('E', body).fields();
                return fields.get('C');
            }
        }
    }
}
