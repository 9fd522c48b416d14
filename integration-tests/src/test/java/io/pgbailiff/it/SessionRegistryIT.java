package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The session registry shows, at every moment, who is connected and what each session runs. */
class SessionRegistryIT {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.start("--node-id", "7");
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    @Test
    void showsUserDatabaseApplicationStatusAndRunningStatement() throws Exception {
        try (Connection alice = proxy.connect("alice", null, "ApplicationName", "reg-alice");
             Connection bob = proxy.connect("bob", null, "ApplicationName", "reg-bob")) {
            SessionSnapshot a = proxy.session("reg-alice");
            assertEquals("alice", a.userName());
            assertEquals("postgres", a.databaseName());
            assertEquals(SessionStatus.IDLE, a.status());
            assertEquals(7, a.nodeId());
            assertEquals(7, a.id().nodeId());
            assertTrue(a.clientAddress().startsWith("127.0.0.1:"));
            assertFalse(a.superuser());
            assertNotNull(a.sessionStart());
            try (Statement s = alice.createStatement()) {
                var rs = s.executeQuery("SELECT pg_backend_pid()");
                rs.next();
                assertEquals(rs.getInt(1), a.backendPid(), "backend_pid joins to pg_stat_activity.pid");
            }
            assertEquals("bob", proxy.session("reg-bob").userName());

            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> {
                try (Statement s = bob.createStatement()) {
                    s.execute("SELECT pg_sleep(1.5) /* bob sleeps */");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            proxy.awaitSessions(l -> l.stream().anyMatch(s -> "reg-bob".equals(s.applicationName())
                    && s.status() == SessionStatus.ACTIVE), WAIT, "bob active");
            SessionSnapshot b = proxy.session("reg-bob");
            assertEquals("SELECT pg_sleep(1.5) /* bob sleeps */", b.activeQuery());
            assertNotNull(b.activeQueryStart());
            assertEquals(SessionStatus.IDLE, proxy.session("reg-alice").status(), "one session's statement is not another's");
            running.get();
            SessionSnapshot after = proxy.session("reg-bob");
            assertEquals(SessionStatus.IDLE, after.status());
            assertNull(after.activeQuery());
            assertEquals("SELECT pg_sleep(1.5) /* bob sleeps */", after.lastActiveQuery());
        }
        proxy.awaitSessions(l -> l.stream().noneMatch(s -> s.applicationName().startsWith("reg-")), WAIT,
                "sessions removed once their clients close");
    }

    @Test
    void applicationNameFollowsSet() throws Exception {
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "before-set");
             Statement s = c.createStatement()) {
            proxy.session("before-set");
            s.execute("SET application_name = 'after-set'");
            assertEquals("alice", proxy.session("after-set").userName());
            assertTrue(proxy.sessions(x -> "before-set".equals(x.applicationName())).isEmpty());
        }
    }

    @Test
    void transactionStatesAndCounters() throws Exception {
        try (Connection c = proxy.connect("postgres", null, "ApplicationName", "reg-tx");
             Statement s = c.createStatement()) {
            SessionSnapshot start = proxy.session("reg-tx");
            assertTrue(start.superuser());
            s.execute("SELECT 1");
            c.setAutoCommit(false);
            s.execute("SELECT 2");
            SessionSnapshot open = proxy.session("reg-tx");
            assertEquals(SessionStatus.IDLE_IN_TRANSACTION, open.status());
            assertNotNull(open.transactionStart());
            SQLException divisionByZero = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> s.execute("SELECT 1/0"));
            assertEquals("22012", divisionByZero.getSQLState());
            assertEquals(SessionStatus.IDLE_IN_FAILED_TRANSACTION, proxy.session("reg-tx").status());
            c.rollback();
            SessionSnapshot idle = proxy.session("reg-tx");
            assertEquals(SessionStatus.IDLE, idle.status());
            assertNull(idle.transactionStart());
            assertTrue(idle.transactionCount() >= start.transactionCount() + 2,
                    "an implicit and an explicit transaction were counted: " + idle);
            assertTrue(idle.statementCount() > start.statementCount());
            assertTrue(idle.bytesFromClient() > 0 && idle.bytesToClient() > 0);
        }
    }

    /** pgjdbc's prepareThreshold 0 keeps to the unnamed statement; 1 names it from the first execution. */
    @ParameterizedTest(name = "prepareThreshold={0}")
    @ValueSource(strings = {"0", "1"})
    void extendedProtocolStatementIsShownWhileItRuns(String prepareThreshold) throws Exception {
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "reg-ext", "prepareThreshold", prepareThreshold);
             PreparedStatement ps = c.prepareStatement("SELECT pg_sleep(?) /* extended */")) {
            ps.setDouble(1, 1.0);
            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> {
                try {
                    ps.execute();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            proxy.awaitSessions(l -> l.stream().anyMatch(s -> "reg-ext".equals(s.applicationName())
                    && s.status() == SessionStatus.ACTIVE), WAIT, "extended statement active");
            assertEquals("SELECT pg_sleep($1) /* extended */", proxy.session("reg-ext").activeQuery());
            running.get();
            assertEquals(SessionStatus.IDLE, proxy.session("reg-ext").status());
        }
    }

    @Test
    void idsAreUniqueAndShownInBothForms() throws Exception {
        try (Connection a = proxy.connect("alice", null, "ApplicationName", "reg-id");
             Connection b = proxy.connect("alice", null, "ApplicationName", "reg-id")) {
            List<SessionSnapshot> two = proxy.sessions(s -> "reg-id".equals(s.applicationName()));
            assertEquals(2, two.size());
            assertFalse(two.get(0).id().equals(two.get(1).id()));
            String hex = two.get(0).id().hex();
            assertTrue(hex.matches("[0-9a-f]{32}"), hex);
            assertTrue(hex.endsWith("00000007"), "low 32 bits are the node id: " + hex);
            assertEquals(two.get(0).id(), io.pgbailiff.adminsql.SessionId.parse(two.get(0).id().uuid().toUpperCase()));
        }
    }
}
