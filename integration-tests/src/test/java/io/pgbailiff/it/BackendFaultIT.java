package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend fails under running sessions: backend processes terminated one by one, PostgreSQL
 * stopped and started again (fast shutdown, immediate shutdown), a backend process killed so
 * that PostgreSQL resets every other one. Each affected client gets a clear FATAL error, its
 * session leaves the registry, and new sessions work as soon as PostgreSQL is back, through the
 * same pgbailiff, never restarted.
 */
class BackendFaultIT extends ProxyTestBase {
    private static final Duration SOON = Duration.ofSeconds(10);

    private static RestartablePostgres own;
    private static TestProxy ownProxy;

    @BeforeAll
    static void startOwnPostgres() {
        own = RestartablePostgres.start();
        ownProxy = TestProxy.start("--backend", "127.0.0.1:" + own.port(), "--connect-timeout", "2s");
    }

    @AfterAll
    static void stopOwnPostgres() {
        if (ownProxy != null) {
            ownProxy.close();
        }
        if (own != null) {
            own.close();
        }
    }

    @Test
    void terminatedBackendsEndTheirSessionsWithTheirFatalAndLeaveTheOthersAlone() throws Exception {
        try (Connection simple = proxy.connect("alice", null, "ApplicationName", "fault-simple", "preferQueryMode", "simple");
             Connection extended = proxy.connect("bob", null, "ApplicationName", "fault-extended", "prepareThreshold", "1");
             Connection idle = proxy.connect("alice", null, "ApplicationName", "fault-idle");
             Bystander bystander = Bystander.open(proxy, "bob", "fault-bystander", 7);
             RawPgClient inTransaction = new RawPgClient(proxy.port());
             Statement s = simple.createStatement(); Statement e = extended.createStatement()) {
            inTransaction.logIn(Map.of("user", "bob", "database", "postgres",
                    "application_name", "fault-in-transaction"));
            inTransaction.send(RawPgClient.query("BEGIN; SELECT 1"));
            inTransaction.readUntil('Z');
            idle.createStatement().execute("SELECT 1");
            CompletableFuture<SQLException> simpleResult = Async.execute(s, "SELECT pg_sleep(60) /* fault-simple */");
            CompletableFuture<SQLException> extendedResult = Async.execute(e, "SELECT pg_sleep(60) /* fault-extended */");
            proxy.awaitRunning("fault-simple", "fault-simple");
            proxy.awaitRunning("fault-extended", "fault-extended");
            assertEquals(SessionStatus.IDLE_IN_TRANSACTION, proxy.session("fault-in-transaction").status());

            List<String> victims = List.of("fault-simple", "fault-extended", "fault-idle", "fault-in-transaction");
            try (Connection admin = TestPostgres.get().superuser(); Statement a = admin.createStatement()) {
                for (String app : victims) {
                    a.execute("SELECT pg_terminate_backend(" + proxy.session(app).backendPid() + ")");
                }
            }

            assertEquals("57P01", sqlState(simpleResult), "a running simple-protocol statement gets the backend's FATAL");
            assertEquals("57P01", sqlState(extendedResult), "a running extended-protocol statement too");
            List<RawPgClient.Message> last = readToEnd(inTransaction);
            RawPgClient.Message fatal = last.get(last.size() - 1);
            assertEquals("FATAL", fatal.fields().get('V'), "an idle client is sent the FATAL at once: " + last);
            assertEquals("57P01", fatal.fields().get('C'));
            assertEquals("terminating connection due to administrator command", fatal.fields().get('M'));
            SQLException idleError = assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"));
            assertTrue(Set.of("57P01", "08006", "08003").contains(idleError.getSQLState()), idleError.getSQLState());

            proxy.awaitSessions(bystander::isAloneIn, SOON, "the terminated sessions left the registry");
            try (Connection fresh = proxy.connect("alice", null, "ApplicationName", "fault-fresh")) {
                assertTrue(fresh.createStatement().executeQuery("SELECT 1").next(), "new sessions work at once");
            }
            bystander.assertUntouched();
        }
    }

    @Test
    void postgresStoppedFastAndStartedAgainWhileSessionsRun() throws Exception {
        restartUnderSessions(false);
    }

    @Test
    void postgresStoppedImmediatelyAndStartedAgainWhileSessionsRun() throws Exception {
        restartUnderSessions(true);
    }

    /**
     * One backend process killed: PostgreSQL ends every other backend and runs crash recovery.
     * Every session through pgbailiff gets a FATAL; while PostgreSQL recovers, new clients get its
     * own FATAL; once it has, they are served.
     */
    @Test
    void aKilledBackendProcessResetsPostgresAndNewSessionsWorkAfterRecovery() throws Exception {
        try (Connection victim = ownProxy.connect("alice", null, "ApplicationName", "crash-victim");
             Connection sibling = ownProxy.connect("bob", null, "ApplicationName", "crash-sibling");
             Statement v = victim.createStatement(); Statement sib = sibling.createStatement()) {
            CompletableFuture<SQLException> victimResult = Async.execute(v, "SELECT pg_sleep(60) /* crash-victim */");
            CompletableFuture<SQLException> siblingResult = Async.execute(sib, "SELECT pg_sleep(60) /* crash-sibling */");
            ownProxy.awaitSessions(l -> l.stream().filter(x -> x.activeQuery() != null && x.activeQuery().contains("crash-")).count() == 2,
                    SOON, "both statements running");
            own.killBackend(ownProxy.session("crash-victim").backendPid());

            assertEquals("08006", sqlState(victimResult), "the killed backend's client: server closed the connection");
            assertTrue(Set.of("57P02", "08006").contains(sqlState(siblingResult)), "its sibling is ended too");
            ownProxy.awaitSessions(List::isEmpty, SOON, "every session left the registry");
            long ms = awaitServing();
            System.out.println("BackendFaultIT: serving again " + ms + " ms after a backend was killed");
        }
    }

    private static void restartUnderSessions(boolean immediate) throws Exception {
        String mode = immediate ? "immediate" : "fast";
        try (Connection running = ownProxy.connect("alice", null, "ApplicationName", mode + "-running");
             Connection idle = ownProxy.connect("bob", null, "ApplicationName", mode + "-idle");
             RawPgClient inTransaction = new RawPgClient(ownProxy.port());
             Statement r = running.createStatement()) {
            inTransaction.logIn(Map.of("user", "bob", "database", "postgres",
                    "application_name", mode + "-in-transaction"));
            inTransaction.send(RawPgClient.query("BEGIN; SELECT 1"));
            inTransaction.readUntil('Z');
            CompletableFuture<SQLException> result = Async.execute(r, "SELECT pg_sleep(60) /* " + mode + "-running */");
            ownProxy.awaitSessions(l -> l.stream().anyMatch(x -> (mode + "-running").equals(x.applicationName())
                    && x.activeQuery() != null), SOON, "statement running");

            if (immediate) {
                own.stopImmediately();
            } else {
                own.stopFast();
            }

            // fast: PostgreSQL's own FATAL, relayed; immediate: none comes, pgbailiff says the server went away
            String expected = immediate ? "08006" : "57P01";
            assertEquals(expected, sqlState(result), mode + ": the running statement's client is told");
            List<RawPgClient.Message> last = readToEnd(inTransaction);
            RawPgClient.Message fatal = last.get(last.size() - 1);
            assertEquals("FATAL", fatal.fields().get('V'), mode + ": the idle client is told at once: " + last);
            assertEquals(expected, fatal.fields().get('C'), last.toString());
            ownProxy.awaitSessions(List::isEmpty, SOON, mode + ": every session left the registry");

            long start = System.nanoTime();
            SQLException down = assertThrows(SQLException.class, () -> ownProxy.connect("alice").close());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals("08006", down.getSQLState(), down.getMessage());
            assertTrue(millis < 3000, "while PostgreSQL is down a client is refused at once, not after " + millis + " ms");

            own.startAgain();
            try (Connection back = ownProxy.connect("alice", null, "ApplicationName", mode + "-back");
                 Statement s = back.createStatement()) {
                ResultSet rs = s.executeQuery("SELECT 'back'");
                assertTrue(rs.next(), mode + ": the first session after the restart is served");
            }
            assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"),
                    "a session from before the restart does not come back");
        }
        ownProxy.awaitSessions(List::isEmpty, SOON, "no session left");
    }

    /** Connects until PostgreSQL is back; every refusal on the way is a clear FATAL. Returns how long it took. */
    private static long awaitServing() {
        long start = System.nanoTime();
        List<String> refusals = new ArrayList<>();
        while (true) {
            try (Connection c = ownProxy.connect("alice"); Statement s = c.createStatement()) {
                s.executeQuery("SELECT 1").next();
                assertTrue(refusals.stream().allMatch(Set.of("57P03", "08006")::contains), "refusals while recovering: " + refusals);
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            } catch (SQLException e) {
                refusals.add(e.getSQLState());
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60), "PostgreSQL back within 60 s: " + refusals);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static String sqlState(CompletableFuture<SQLException> result) throws Exception {
        SQLException e = result.get(SOON.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(e, "the statement failed");
        return e.getSQLState();
    }

    /** Every message until the server closes the connection. */
    private static List<RawPgClient.Message> readToEnd(RawPgClient raw) throws IOException {
        raw.setTimeout((int) SOON.toMillis());
        List<RawPgClient.Message> messages = new ArrayList<>();
        try {
            while (true) {
                messages.add(raw.read());
            }
        } catch (EOFException | SocketException closed) {
            return messages;
        }
    }
}
