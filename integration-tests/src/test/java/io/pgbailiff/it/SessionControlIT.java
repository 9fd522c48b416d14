package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PGInterval;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session-control statements in the simple query protocol, with their effects on real sessions. */
class SessionControlIT extends ProxyTestBase {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static Connection simple(String user, String app) throws SQLException {
        return proxy.connect(user, null, "ApplicationName", app, "preferQueryMode", "simple");
    }

    @Test
    void showSessionsColumnsAndOwnSession() throws Exception {
        try (Connection c = simple("postgres", "ctl-show"); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SHOW SESSIONS");
            ResultSetMetaData md = rs.getMetaData();
            List<String> names = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                names.add(md.getColumnName(i));
            }
            assertEquals(List.of("node_id", "session_id", "status", "user_name", "authentication_method", "client_address",
                    "application_name", "active_queries", "last_active_query", "session_start", "active_query_start",
                    "num_txns_executed", "database_name", "backend_pid", "tls"), names);
            boolean own = false;
            String id = proxy.session("ctl-show").id().hex();
            while (rs.next()) {
                if (id.equals(rs.getString("session_id"))) {
                    own = true;
                    assertEquals("postgres", rs.getString("user_name"));
                    assertEquals("SHOW SESSIONS", rs.getString("active_queries"));
                    assertEquals(proxy.session("ctl-show").backendPid(), rs.getInt("backend_pid"));
                    assertFalse(rs.getBoolean("tls"));
                }
            }
            assertTrue(own, "the caller's own session is listed");
        }
    }

    /** A comment after the last semicolon is no statement, as PostgreSQL sees it, in either protocol. */
    @Test
    void aCommentAfterTheFinalSemicolonIsNoSecondStatement() throws Exception {
        try (Connection simple = simple("postgres", "ctl-trailing-comment");
             Connection extended = proxy.connect("postgres", null, "ApplicationName", "ctl-trailing-comment-x")) {
            for (Connection c : List.of(simple, extended)) {
                for (String sql : List.of("SHOW SESSIONS; -- list them", "SHOW SESSIONS; /* done */",
                        "SELECT count(*) FROM [SHOW SESSIONS];\n-- count them\n")) {
                    // pgjdbc's extended mode sends the comment as a statement of its own, which
                    // PostgreSQL answers with an empty result: so execute, not executeQuery
                    try (Statement s = c.createStatement()) {
                        assertTrue(s.execute(sql), sql);
                        assertTrue(s.getResultSet().next(), sql);
                    }
                }
                try (Statement s = c.createStatement()) {
                    assertEquals(0, s.executeUpdate("CANCEL SESSION IF EXISTS '00000000000000000000000000000001'; -- x"));
                }
            }
        }
    }

    /** backend_pid joins to pg_stat_activity.pid: a quoted number and a driver's parameter of any kind compare with it. */
    @Test
    void backendPidComparesWithQuotedNumbersAndParameters() throws Exception {
        for (Connection c : List.of(simple("postgres", "ctl-pid"), proxy.connect("postgres", null, "ApplicationName", "ctl-pid"))) {
            try (c; Statement s = c.createStatement();
                 PreparedStatement byPid = c.prepareStatement("SELECT application_name FROM [SHOW SESSIONS] WHERE backend_pid = ?")) {
                ResultSet own = s.executeQuery("SELECT pg_backend_pid()");
                assertTrue(own.next());
                int pid = own.getInt(1);
                ResultSet quoted = s.executeQuery("SELECT application_name FROM [SHOW SESSIONS] WHERE backend_pid = '" + pid + "'");
                assertTrue(quoted.next());
                assertEquals("ctl-pid", quoted.getString(1));
                for (Object parameter : List.of(pid, (long) pid, String.valueOf(pid))) {
                    byPid.setObject(1, parameter);
                    try (ResultSet rs = byPid.executeQuery()) {
                        assertTrue(rs.next(), parameter.getClass().getSimpleName());
                        assertEquals("ctl-pid", rs.getString(1));
                        assertFalse(rs.next());
                    }
                }
            }
        }
    }

    /**
     * Session-control statements are evaluated on the event loop that serves other sessions too:
     * deep nesting parses at once, or is refused with 54001, and the connection goes on.
     */
    @Test
    void deeplyNestedSessionControlStatementsAnswerAtOnce() throws Exception {
        try (Connection c = simple("alice", "ctl-nested"); Statement s = c.createStatement()) {
            long start = System.nanoTime();
            ResultSet rs = s.executeQuery("SELECT count(*) FROM [SHOW SESSIONS] WHERE " + "(".repeat(15) + "true" + ")".repeat(15));
            assertTrue(rs.next());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 5_000, "answered without stalling the proxy");
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery(
                    "SELECT count(*) FROM [SHOW SESSIONS] WHERE " + "(".repeat(3000) + "true" + ")".repeat(3000)));
            assertEquals("54001", e.getSQLState(), e.getMessage());
            assertTrue(s.executeQuery("SHOW SESSIONS").next(), "the session goes on");
        }
    }

    /**
     * A session-control select with a list of 20,000 ids keeps JSqlParser busy for a second or
     * more. Other sessions on the same event loop (the proxy runs one) are answered all the while,
     * in both protocols, and the long statement still gets its right answer.
     */
    @Test
    void aLongSessionControlStatementHoldsUpNoOtherSession() throws Exception {
        try (TestProxy one = TestProxy.start("--threads", "1");
             Connection bystander = one.connect("postgres", null, "ApplicationName", "ctl-long-bystander");
             Connection simple = one.connect("postgres", null, "ApplicationName", "ctl-long", "preferQueryMode", "simple");
             Connection extended = one.connect("postgres", null, "ApplicationName", "ctl-long-x")) {
            StringBuilder ids = new StringBuilder("'").append(one.session("ctl-long-bystander").id().hex()).append("'");
            for (int i = 0; i < 20_000; i++) {
                ids.append(", '").append(String.format("%032x", 0xfeed0000L + i)).append("'");
            }
            String sql = "SELECT count(*) FROM [SHOW SESSIONS] WHERE session_id IN (" + ids + ")";
            for (Connection c : List.of(simple, extended)) {
                java.util.concurrent.CompletableFuture<Long> counted = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
                        return rs.next() ? rs.getLong(1) : -1L;
                    } catch (SQLException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                long start = System.nanoTime();
                List<Long> answeredAt = new ArrayList<>();
                try (Statement s = bystander.createStatement()) {
                    while (!counted.isDone()) {
                        s.executeQuery("SELECT 1").close();
                        answeredAt.add(System.nanoTime());
                    }
                }
                assertEquals(1L, counted.get(60, TimeUnit.SECONDS), "the bystander's session is the one listed");
                long took = System.nanoTime() - start;
                long longestWait = 0;
                long previous = start;
                for (long t : answeredAt) {
                    longestWait = Math.max(longestWait, t - previous);
                    previous = t;
                }
                assertTrue(took > TimeUnit.MILLISECONDS.toNanos(200) && longestWait < took / 2,
                        "the bystander was answered all the while the long statement ran: " + answeredAt.size() + " answers in "
                                + TimeUnit.NANOSECONDS.toMillis(took) + " ms, longest wait " + TimeUnit.NANOSECONDS.toMillis(longestWait) + " ms");
            }
        }
    }

    /**
     * As in PostgreSQL, a statement that fails inside a transaction block fails the block: every
     * later statement, session-control ones too, gets 25P02 until ROLLBACK, and nothing the block
     * did is kept. Errors found while compiling, while binding and while running are all covered.
     */
    @Test
    void aFailedSessionControlStatementFailsTheTransactionBlock() throws Exception {
        try (Connection setup = simple("postgres", "ctl-tx-setup"); Statement s = setup.createStatement()) {
            s.execute("DROP TABLE IF EXISTS tx_abort");
            s.execute("CREATE TABLE tx_abort (v int)");
        }
        List<String> failing = List.of("SELECT * FROM [SHOW SESSIONS] WHERE no_such_column = 1", "CANCEL SESSION 'not-an-id'",
                "CANCEL SESSIONS SELECT 'ffffffffffffffffffffffffffffffff'");
        for (String mode : List.of("simple", "extended")) {
            for (String statement : failing) {
                try (Connection c = proxy.connect("postgres", null, "ApplicationName", "ctl-tx-abort", "preferQueryMode", mode);
                     Statement s = c.createStatement()) {
                    c.setAutoCommit(false);
                    s.execute("INSERT INTO tx_abort VALUES (1)");
                    SQLException e = assertThrows(SQLException.class, () -> s.execute(statement), mode + ": " + statement);
                    assertFalse("25P02".equals(e.getSQLState()), e.getMessage());
                    for (String next : List.of("SELECT 1", "SHOW SESSIONS", "INSERT INTO tx_abort VALUES (2)")) {
                        SQLException aborted = assertThrows(SQLException.class, () -> s.execute(next), mode + ": " + next);
                        assertEquals("25P02", aborted.getSQLState(), mode + ": " + next + ": " + aborted.getMessage());
                    }
                    c.rollback();
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM tx_abort")) {
                        assertTrue(rs.next());
                        assertEquals(0, rs.getInt(1), mode + ": nothing of the failed block is kept");
                    }
                    assertTrue(s.executeQuery("SHOW SESSIONS").next(), "the session goes on");
                    c.commit();
                }
            }
        }
        try (Connection c = proxy.connect("postgres", null, "ApplicationName", "ctl-tx-bind");
             PreparedStatement cancel = c.prepareStatement("CANCEL SESSION $1")) {
            c.setAutoCommit(false);
            c.createStatement().execute("INSERT INTO tx_abort VALUES (3)");
            SQLException e = assertThrows(SQLException.class, cancel::execute, "no value bound for $1");
            SQLException aborted = assertThrows(SQLException.class, () -> c.createStatement().execute("SELECT 1"));
            assertEquals("25P02", aborted.getSQLState(), e.getMessage() + " / " + aborted.getMessage());
            c.rollback();
        }
    }

    /** pgjdbc's simple mode sends the parameter inlined in parentheses: {@code CANCEL SESSION ('id')}. */
    @Test
    void cancelSessionWithAParameterInPgjdbcSimpleMode() throws Exception {
        try (Connection victim = simple("maxroach", "ctl-simple-param-victim"); Connection admin = simple("postgres", "ctl-simple-param");
             PreparedStatement cancel = admin.prepareStatement("CANCEL SESSION IF EXISTS ?")) {
            cancel.setString(1, proxy.session("ctl-simple-param-victim").id().hex());
            assertEquals(1, cancel.executeUpdate());
            SQLException e = assertThrows(SQLException.class, () -> victim.createStatement().execute("SELECT 1"));
            assertEquals("57P01", e.getSQLState());
            cancel.setString(1, "00000000000000000000000000000001");
            assertEquals(0, cancel.executeUpdate());
        }
    }

    /**
     * While a session commits, md_interrupt_server_connection returns false and the commit
     * stands, whatever comments an application puts before the COMMIT. A deferred constraint
     * trigger makes the commit take long enough to be caught.
     */
    @Test
    void anInterruptDuringACommitReturnsFalseAndTheCommitStands() throws Exception {
        try (Connection setup = simple("postgres", "ctl-commit-setup"); Statement s = setup.createStatement()) {
            s.execute("DROP TABLE IF EXISTS slow_commit");
            s.execute("CREATE TABLE slow_commit (marker text)");
            s.execute("CREATE OR REPLACE FUNCTION slow_commit_wait() RETURNS trigger LANGUAGE plpgsql"
                    + " AS $$BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END$$");
            s.execute("CREATE CONSTRAINT TRIGGER slow_commit_wait AFTER INSERT ON slow_commit"
                    + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit_wait()");
        }
        List<String> commits = List.of("COMMIT", "/* app:checkout */ COMMIT", "-- end of the order\nCOMMIT",
                "INSERT INTO slow_commit VALUES ('second'); COMMIT");
        for (String commit : commits) {
            try (Connection victim = simple("postgres", "ctl-committing"); Connection admin = simple("postgres", "ctl-commit-admin");
                 Statement v = victim.createStatement(); Statement a = admin.createStatement()) {
                v.execute("BEGIN");
                v.execute("INSERT INTO slow_commit VALUES ('" + commit.replace("'", "''") + "')");
                var committing = Async.execute(v, commit);
                proxy.awaitRunning("ctl-committing", "COMMIT");
                ResultSet rs = a.executeQuery("SELECT md_interrupt_server_connection('"
                        + proxy.session("ctl-committing").id().uuid() + "')");
                assertTrue(rs.next());
                assertFalse(rs.getBoolean(1), commit + ": committing, nothing interrupted");
                assertNull(committing.get(10, TimeUnit.SECONDS), commit + ": the commit succeeds");
            }
        }
        try (Connection check = simple("postgres", "ctl-commit-check"); Statement s = check.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM slow_commit WHERE marker LIKE '%COMMIT%'")) {
            assertTrue(rs.next());
            assertEquals(commits.size(), rs.getInt(1), "every transaction committed");
            s.execute("DROP TABLE slow_commit");
            s.execute("DROP FUNCTION slow_commit_wait()");
        }
    }

    @Test
    void ordinaryUsersSeeOnlyTheirOwnSessions() throws Exception {
        try (Connection bob = simple("bob", "ctl-bob-own"); Connection alice = simple("alice", "ctl-alice-own");
             Statement s = alice.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT user_name, session_id FROM [SHOW SESSIONS]");
            int rows = 0;
            while (rs.next()) {
                rows++;
                assertEquals("alice", rs.getString(1));
            }
            assertEquals(1, rows);
        }
    }

    @Test
    void cancelSessionByLiteralEndsTheTargetWith57P01() throws Exception {
        try (Connection victim = simple("maxroach", "ctl-victim"); Connection admin = simple("postgres", "ctl-admin");
             Statement v = victim.createStatement(); Statement a = admin.createStatement()) {
            v.execute("BEGIN");
            v.execute("CREATE TEMP TABLE gone (x int)");
            String id = proxy.session("ctl-victim").id().hex();
            a.execute("CANCEL SESSION '" + id + "'");
            SQLException e = assertThrows(SQLException.class, () -> v.execute("SELECT 1"));
            assertTrue("57P01".equals(e.getSQLState()) || "08006".equals(e.getSQLState()), e.getSQLState() + " " + e.getMessage());
            proxy.awaitSessions(l -> l.stream().noneMatch(s -> "ctl-victim".equals(s.applicationName())), WAIT, "victim gone");
            ResultSet rs = a.executeQuery("SELECT 1");
            assertTrue(rs.next(), "the caller's own session is unaffected");
        }
    }

    @Test
    void seedExamplesEndExactlyTheMatchingSessions() throws Exception {
        try (Connection root = simple("root", "seed-root"); Connection max1 = simple("maxroach", "seed-max1");
             Connection max2 = simple("maxroach", "seed-max2"); Connection other = simple("alice", "seed-alice");
             Connection admin = simple("postgres", "seed-admin"); Statement a = admin.createStatement()) {
            a.execute("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS]\n       WHERE username = 'root');");
            proxy.awaitSessions(l -> l.stream().noneMatch(s -> "seed-root".equals(s.applicationName())), WAIT, "root ended");
            a.execute("CANCEL SESSIONS (WITH x AS (SHOW SESSIONS) SELECT session_id FROM x\n      WHERE user_name = 'maxroach');");
            proxy.awaitSessions(l -> l.stream().noneMatch(s -> s.applicationName().startsWith("seed-max")), WAIT, "maxroach ended");
            assertEquals(SessionStatus.IDLE, proxy.session("seed-alice").status(), "other users' sessions stay");
            try (Statement s = other.createStatement()) {
                assertTrue(s.executeQuery("SELECT 1").next());
            }
        }
    }

    /** An IN list followed by AND and OR, through the wire: only the session both conditions pick ends. */
    @Test
    void inListWithAndOrEndsExactlyTheMatchingSession() throws Exception {
        try (Connection max1 = simple("maxroach", "in-max1"); Connection max2 = simple("maxroach", "in-max2");
             Connection alice = simple("alice", "in-alice");
             Connection admin = simple("postgres", "in-admin"); Statement a = admin.createStatement()) {
            a.execute("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE application_name IN ('in-max1', 'in-alice')"
                    + " AND user_name = 'maxroach' OR application_name = 'nobody')");
            proxy.awaitGone("in-max1");
            assertEquals(SessionStatus.IDLE, proxy.session("in-max2").status());
            assertEquals(SessionStatus.IDLE, proxy.session("in-alice").status());
        }
    }

    @Test
    void errorsCarryTheirSqlStates() throws Exception {
        try (Connection c = simple("postgres", "ctl-errors"); Statement s = c.createStatement()) {
            assertEquals("42704", assertThrows(SQLException.class,
                    () -> s.execute("CANCEL SESSION '00000000000000000000000000000001'")).getSQLState());
            s.execute("CANCEL SESSION IF EXISTS '00000000000000000000000000000001'");
            SQLException seed = assertThrows(SQLException.class, () -> s.execute("CANCEL SESSION '1530fe0e46d2692e0000000000000001';"));
            assertEquals("42704", seed.getSQLState(), "the documentation's literal parses; no such session here");
            assertTrue(seed.getMessage().contains("could not cancel session 1530fe0e46d2692e0000000000000001: session ID"
                    + " 1530fe0e46d2692e0000000000000001 not found"), seed.getMessage());
            assertEquals("42601", assertThrows(SQLException.class,
                    () -> s.execute("CANCEL SESSION 'not-an-id'")).getSQLState());
            try (Connection x = simple("bob", "ctl-two-a"); Connection y = simple("bob", "ctl-two-b")) {
                assertEquals("21000", assertThrows(SQLException.class,
                        () -> s.execute("CANCEL SESSION (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'bob')")).getSQLState());
                assertEquals(2, proxy.sessions(z -> z.applicationName().startsWith("ctl-two-")).size(), "nothing cancelled");
            }
            assertTrue(s.executeQuery("SELECT 1").next(), "errors leave the connection usable");
        }
    }

    @Test
    void privileges() throws Exception {
        try (Connection bob = simple("bob", "priv-bob"); Connection boss = simple("boss", "priv-boss");
             Connection alice = simple("alice", "priv-alice"); Connection signaller = simple("signaller", "priv-sig");
             Statement a = alice.createStatement(); Statement sig = signaller.createStatement()) {
            String bobId = proxy.session("priv-bob").id().hex();
            String bossId = proxy.session("priv-boss").id().hex();
            SQLException denied = assertThrows(SQLException.class, () -> a.execute("CANCEL SESSION '" + bobId + "'"));
            assertEquals("42501", denied.getSQLState());
            assertEquals(SessionStatus.IDLE, proxy.session("priv-bob").status());
            assertEquals("42501", assertThrows(SQLException.class,
                    () -> sig.execute("CANCEL SESSION '" + bossId + "'")).getSQLState(), "nobody but a superuser cancels a superuser");
            sig.execute("CANCEL SESSION '" + bobId + "'");
            proxy.awaitSessions(l -> l.stream().noneMatch(s -> "priv-bob".equals(s.applicationName())), WAIT, "bob ended");
            try (Connection alice2 = simple("alice", "priv-alice2")) {
                a.execute("CANCEL SESSION '" + proxy.session("priv-alice2").id().uuid() + "'");
                proxy.awaitSessions(l -> l.stream().noneMatch(s -> "priv-alice2".equals(s.applicationName())), WAIT,
                        "alice cancels her own session");
            }
        }
    }

    @Test
    void whoSeesWhatAndTheAuditTrail() throws Exception {
        try (TestProxy withAdmins = TestProxy.start("--admin-roles", "ops");
             Connection bob = withAdmins.connect("bob", null, "ApplicationName", "see-bob", "preferQueryMode", "simple");
             Connection boss = withAdmins.connect("boss", null, "ApplicationName", "see-boss");
             Connection sig = withAdmins.connect("signaller", null, "preferQueryMode", "simple");
             Connection watcher = withAdmins.connect("watcher", null, "preferQueryMode", "simple");
             Connection ops = withAdmins.connect("opsuser", null, "preferQueryMode", "simple");
             Connection superuser = withAdmins.connect("postgres", null, "preferQueryMode", "simple")) {
            try (Statement b = bob.createStatement()) {
                b.execute("SELECT 'bob secret'");
            }
            String textSeenBy;
            try (Statement s = sig.createStatement()) {
                ResultSet rs = s.executeQuery("SELECT last_active_query FROM [SHOW SESSIONS] WHERE application_name = 'see-bob'");
                assertTrue(rs.next(), "a pg_signal_backend member sees the sessions it may cancel");
                textSeenBy = rs.getString(1);
                assertEquals("<insufficient privilege>", textSeenBy, "but not their query text");
            }
            try (Statement s = watcher.createStatement()) {
                ResultSet rs = s.executeQuery("SELECT last_active_query FROM [SHOW SESSIONS] WHERE application_name = 'see-bob'");
                assertTrue(rs.next());
                assertEquals("SELECT 'bob secret'", rs.getString(1), "pg_read_all_stats members see the text");
                assertEquals("42501", assertThrows(SQLException.class, () -> s.execute("CANCEL SESSIONS (SELECT session_id"
                        + " FROM [SHOW SESSIONS] WHERE application_name = 'see-bob')")).getSQLState(), "seeing is not cancelling");
            }
            String bossId = withAdmins.sessions(x -> "see-boss".equals(x.applicationName())).get(0).id().hex();
            try (Statement s = ops.createStatement()) {
                ResultSet rs = s.executeQuery("SELECT count(*) FROM [SHOW SESSIONS] WHERE user_name IN ('bob', 'boss')");
                rs.next();
                assertEquals(2, rs.getInt(1), "an admin-role member sees every session");
                assertEquals("42501", assertThrows(SQLException.class,
                        () -> s.execute("CANCEL SESSION '" + bossId + "'")).getSQLState(), "but cannot cancel a superuser");
                s.execute("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE application_name = 'see-bob')");
            }
            withAdmins.awaitSessions(l -> l.stream().noneMatch(x -> "see-bob".equals(x.applicationName())), WAIT, "bob ended");
            try (Statement s = superuser.createStatement()) {
                s.execute("CANCEL SESSION '" + bossId + "'");
            }
            withAdmins.awaitSessions(l -> l.stream().noneMatch(x -> "see-boss".equals(x.applicationName())), WAIT,
                    "a superuser cancels another superuser");
            assertTrue(AuditRecorder.contains("denied", "user opsuser", bossId), "denied attempts are audited: " + AuditRecorder.LINES);
            assertTrue(AuditRecorder.contains("cancel session", "user opsuser", "of user bob", "done"), AuditRecorder.LINES.toString());
            assertTrue(AuditRecorder.contains("cancel session", "user postgres", bossId, "done"), AuditRecorder.LINES.toString());
        }
    }

    @Test
    void cancelQueryCancelsOnlyTheStatement() throws Exception {
        try (Connection victim = simple("bob", "cq-victim"); Connection admin = simple("postgres", "cq-admin");
             Statement v = victim.createStatement(); Statement a = admin.createStatement()) {
            var result = Async.execute(v, "SELECT pg_sleep(30)");
            proxy.awaitRunning("cq-victim", "SELECT pg_sleep(30)");
            ResultSet rs = a.executeQuery("SELECT query_id FROM [SHOW QUERIES] WHERE query = 'SELECT pg_sleep(30)'");
            assertTrue(rs.next());
            String queryId = rs.getString(1);
            long start = System.nanoTime();
            a.execute("CANCEL QUERY '" + queryId + "'");
            SQLException e = result.get(3, TimeUnit.SECONDS);
            assertEquals("57014", e == null ? null : e.getSQLState());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3000);
            assertTrue(v.executeQuery("SELECT 1").next(), "the connection is kept");
        }
    }

    @Test
    void startTimesAndElapsedTimesAreThoseOfTheRunningStatementAndItsTransaction() throws Exception {
        try (Connection victim = simple("bob", "times-victim"); Connection admin = simple("postgres", "times-admin");
             Statement v = victim.createStatement(); Statement a = admin.createStatement()) {
            Instant beforeBegin = Instant.now();
            v.execute("BEGIN");
            Thread.sleep(200);
            Instant beforeQuery = Instant.now();
            var result = Async.execute(v, "SELECT pg_sleep(30)");
            proxy.awaitRunning("times-victim", "SELECT pg_sleep(30)");
            Instant running = Instant.now();
            Thread.sleep(100);

            ResultSet rs = a.executeQuery("SELECT active_query_start, session_start FROM [SHOW SESSIONS]"
                    + " WHERE application_name = 'times-victim'");
            assertTrue(rs.next());
            Instant queryStart = rs.getTimestamp(1).toInstant();
            assertBetween(beforeQuery, queryStart, running, "active_query_start");
            assertTrue(rs.getTimestamp(2).toInstant().isBefore(beforeBegin), "session_start");

            rs = a.executeQuery("SELECT start, query_id FROM [SHOW QUERIES] WHERE query = 'SELECT pg_sleep(30)'");
            assertTrue(rs.next());
            assertEquals(queryStart, rs.getTimestamp(1).toInstant(), "SHOW QUERIES and SHOW SESSIONS agree");
            String queryId = rs.getString(2);
            for (int i = 0; i < 20; i++) {
                rs = a.executeQuery("SELECT active_query_start FROM [SHOW SESSIONS] WHERE application_name = 'times-victim'");
                assertTrue(rs.next());
                assertEquals(queryStart, rs.getTimestamp(1).toInstant(), "every listing shows the same start");
            }

            Instant asked = Instant.now();
            rs = a.executeQuery("SELECT server_query_elapsed_time, server_transaction_elapsed_time"
                    + " FROM md_active_server_connections() WHERE client_query = 'SELECT pg_sleep(30)'");
            Instant answered = Instant.now();
            assertTrue(rs.next());
            Duration query = seconds(rs.getObject(1, PGInterval.class));
            Duration transaction = seconds(rs.getObject(2, PGInterval.class));
            assertTrue(query.compareTo(Duration.between(running, asked)) >= 0
                    && query.compareTo(Duration.between(beforeQuery, answered)) <= 0, "query elapsed " + query);
            assertTrue(transaction.compareTo(Duration.between(beforeBegin, answered)) <= 0
                    && transaction.minus(query).compareTo(Duration.ofMillis(150)) >= 0,
                    "the transaction began at BEGIN, before the statement: " + transaction + " against " + query);

            a.execute("CANCEL QUERY '" + queryId + "'");
            assertEquals("57014", result.get(3, TimeUnit.SECONDS).getSQLState());
            v.execute("ROLLBACK");
        }
    }

    private static void assertBetween(Instant from, Instant actual, Instant to, String what) {
        // timestamptz has microseconds; the bounds are truncated alike
        assertFalse(actual.isBefore(from.truncatedTo(ChronoUnit.MICROS)) || actual.isAfter(to), what + " " + actual
                + " is not between " + from + " and " + to);
    }

    private static Duration seconds(PGInterval interval) {
        return Duration.ofNanos(Math.round(((interval.getDays() * 24L + interval.getHours()) * 3600L
                + interval.getMinutes() * 60L + interval.getSeconds()) * 1e9));
    }

    @Test
    void mdInterruptFailsTheRunningCreateTableAndKeepsTheConnection() throws Exception {
        try (Connection victim = simple("bob", "md-victim"); Connection admin = simple("postgres", "md-admin");
             Statement v = victim.createStatement(); Statement a = admin.createStatement()) {
            String sql = "CREATE TABLE md_victim_t AS SELECT pg_sleep(30)::text AS slept";
            var result = Async.execute(v, sql);
            proxy.awaitRunning("md-victim", sql);
            ResultSet rs = a.executeQuery("SELECT md_interrupt_server_connection(client_connection_id)\n"
                    + "FROM md_active_server_connections()\nWHERE client_query ILIKE 'CREATE TABLE%';");
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1));
            assertFalse(rs.next(), "one row per matching connection");
            SQLException e = result.get(3, TimeUnit.SECONDS);
            assertEquals("57014", e == null ? null : e.getSQLState());
            assertTrue(v.executeQuery("SELECT 1").next());
        }
    }

    @Test
    void mdInterruptOfAnIdleTransactionReleasesItsLocksAtOnce() throws Exception {
        try (Connection setup = TestPostgres.get().superuser(); Statement st = setup.createStatement()) {
            st.execute("DROP TABLE IF EXISTS md_locked");
            st.execute("CREATE TABLE md_locked (id int PRIMARY KEY, v int)");
            st.execute("INSERT INTO md_locked VALUES (1, 0)");
            st.execute("GRANT ALL ON md_locked TO PUBLIC");
        }
        try (Connection victim = simple("bob", "lock-victim"); Connection waiter = simple("alice", "lock-waiter");
             Connection admin = simple("postgres", "lock-admin");
             Statement v = victim.createStatement(); Statement w = waiter.createStatement(); Statement a = admin.createStatement()) {
            v.execute("BEGIN");
            v.execute("UPDATE md_locked SET v = 1 WHERE id = 1");
            assertEquals(SessionStatus.IDLE_IN_TRANSACTION, proxy.session("lock-victim").status());
            var blocked = Async.execute(w, "UPDATE md_locked SET v = 2 WHERE id = 1");
            Thread.sleep(300);
            assertFalse(blocked.isDone(), "the waiter is blocked on the victim's row lock");
            String uuid = proxy.session("lock-victim").id().uuid();
            ResultSet rs = a.executeQuery("SELECT md_interrupt_server_connection('" + uuid + "')");
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1));
            assertNull(blocked.get(2, TimeUnit.SECONDS), "the waiter proceeds within 2 s");
            SQLException e = assertThrows(SQLException.class, () -> v.execute("SELECT 1"));
            assertEquals("25P02", e.getSQLState());
            assertTrue(e.getMessage().contains("interrupted by an administrator"), e.getMessage());
            v.execute("ROLLBACK");
            assertTrue(v.executeQuery("SELECT 1").next(), "the connection works normally afterwards");
            rs = a.executeQuery("SELECT md_interrupt_server_connection('" + uuid + "')");
            rs.next();
            assertFalse(rs.getBoolean(1), "idle outside a transaction: nothing to interrupt");
        }
    }

    @Test
    void mixingSessionControlWithOrdinaryStatementsIsRefusedBeforeAnythingRuns() throws Exception {
        try (Connection c = simple("postgres", "ctl-mixed"); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> s.execute("CREATE TEMP TABLE mixed_marker (x int); SHOW SESSIONS"));
            assertEquals("0A000", e.getSQLState());
            assertEquals("42P01", assertThrows(SQLException.class,
                    () -> s.execute("SELECT * FROM mixed_marker")).getSQLState(), "the ordinary statement did not run");
        }
    }

    /**
     * CANCEL QUERY aimed at a statement that is just finishing, with the victim immediately running
     * a marker statement: the marker is never cancelled.
     */
    @Test
    void aLateCancelNeverHitsTheNextStatement() throws Exception {
        try (Connection victim = simple("bob", "race-victim"); Connection admin = simple("postgres", "race-admin");
             Statement v = victim.createStatement(); Statement a = admin.createStatement()) {
            int cancelled = 0;
            for (int i = 0; i < 1000; i++) {
                String sql = "SELECT pg_sleep(0.002), " + i;
                var running = Async.execute(v, sql);
                String queryId = null;
                while (queryId == null && !running.isDone()) {
                    ResultSet rs = a.executeQuery("SELECT query_id FROM [SHOW QUERIES] WHERE application_name = 'race-victim'");
                    if (rs.next()) {
                        queryId = rs.getString(1);
                    }
                }
                if (queryId != null) {
                    a.execute("CANCEL QUERY IF EXISTS '" + queryId + "'");
                }
                SQLException first = running.get(5, TimeUnit.SECONDS);
                if (first != null) {
                    assertEquals("57014", first.getSQLState());
                    cancelled++;
                }
                ResultSet marker = v.executeQuery("SELECT 'marker', " + i);
                assertTrue(marker.next(), "marker " + i + " ran");
            }
            assertTrue(cancelled > 0, "some cancels landed on their statement, so the race was exercised");
        }
    }
}
