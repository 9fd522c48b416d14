package io.pgbailiff.it;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session-control statements through pgjdbc's extended protocol: prepared, parameterised, binary. */
class ExtendedSessionControlIT extends ProxyTestBase {
    /** Values are written as UTF-8 with their byte length, in text and in binary results alike. */
    @Test
    void nonAsciiValuesKeepTheirLengthInTextAndBinaryResults() throws Exception {
        String sql = "SELECT 'sessão-€-会话' AS greeting";
        try (Connection victim = proxy.connect("alice", null, "ApplicationName", "ext-utf8");
             Statement v = victim.createStatement()) {
            v.execute(sql);
            for (String mode : new String[] {"simple", "extended"}) {
                try (Connection c = proxy.connect("postgres", null, "preferQueryMode", mode, "prepareThreshold", "1",
                        "binaryTransfer", "true");
                     PreparedStatement ps = c.prepareStatement("SELECT last_active_query, user_name, backend_pid"
                             + " FROM [SHOW SESSIONS] WHERE application_name = 'ext-utf8'");
                     ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next(), mode);
                    assertEquals(sql, rs.getString(1), mode);
                    assertEquals("alice", rs.getString(2), mode);
                    assertEquals(proxy.session("ext-utf8").backendPid(), rs.getInt(3), mode);
                }
            }
        }
    }

    @Test
    void preparedShowSessionsExecutedTenTimesWithBinaryResults() throws Exception {
        try (Connection c = proxy.connect("postgres", null, "ApplicationName", "ext-show", "prepareThreshold", "1",
                "binaryTransfer", "true");
             PreparedStatement ps = c.prepareStatement("SHOW SESSIONS")) {
            String own = proxy.session("ext-show").id().hex();
            for (int i = 0; i < 10; i++) {
                boolean found = false;
                long transactionsBefore = proxy.session("ext-show").transactionCount();
                try (ResultSet rs = ps.executeQuery()) {
                    assertEquals("session_id", rs.getMetaData().getColumnName(2));
                    while (rs.next()) {
                        if (own.equals(rs.getString("session_id"))) {
                            found = true;
                            assertEquals(1L, rs.getLong("node_id"));
                            assertEquals(proxy.session("ext-show").backendPid(), rs.getInt("backend_pid"));
                            assertFalse(rs.getBoolean("tls"));
                            Timestamp started = rs.getTimestamp("session_start");
                            assertEquals(proxy.session("ext-show").sessionStart().toEpochMilli(), started.getTime());
                            assertEquals(transactionsBefore, rs.getLong("num_txns_executed"));
                        }
                    }
                }
                assertTrue(found, "execution " + i + " lists the caller's session");
            }
            assertTrue(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare());
            try (Statement s = c.createStatement()) {
                assertTrue(s.executeQuery("SELECT 1").next(), "ordinary statements still work on the same connection");
            }
        }
    }

    @Test
    void cancelSessionWithAParameter() throws Exception {
        try (Connection admin = proxy.connect("postgres", null, "ApplicationName", "ext-admin");
             PreparedStatement cancel = admin.prepareStatement("CANCEL SESSION ?")) {
            try (Connection v1 = proxy.connect("bob", null, "ApplicationName", "ext-victim-hex")) {
                cancel.setString(1, proxy.session("ext-victim-hex").id().hex());
                cancel.execute();
                proxy.awaitGone("ext-victim-hex");
                SQLException e = assertThrows(SQLException.class, () -> v1.createStatement().execute("SELECT 1"));
                assertTrue("57P01".equals(e.getSQLState()) || "08006".equals(e.getSQLState()), e.getSQLState());
            }
            try (Connection v2 = proxy.connect("bob", null, "ApplicationName", "ext-victim-uuid")) {
                cancel.setString(1, proxy.session("ext-victim-uuid").id().uuid().toUpperCase());
                cancel.execute();
                proxy.awaitGone("ext-victim-uuid");
            }
            cancel.setString(1, "00000000000000000000000000000001");
            assertEquals("42704", assertThrows(SQLException.class, cancel::execute).getSQLState());
            try (Statement s = admin.createStatement()) {
                assertTrue(s.executeQuery("SELECT 1").next(), "an error leaves the connection usable");
            }
        }
    }

    @Test
    void mdInterruptWithAParameterCancelsTheRunningStatement() throws Exception {
        try (Connection victim = proxy.connect("bob", null, "ApplicationName", "ext-md-victim");
             Connection admin = proxy.connect("postgres", null, "ApplicationName", "ext-md-admin");
             Statement v = victim.createStatement();
             PreparedStatement interrupt = admin.prepareStatement("SELECT md_interrupt_server_connection(?)")) {
            CompletableFuture<SQLException> result = Async.execute(v, "SELECT pg_sleep(30)");
            proxy.awaitRunning("ext-md-victim", "SELECT pg_sleep(30)");
            interrupt.setString(1, proxy.session("ext-md-victim").id().uuid());
            try (ResultSet rs = interrupt.executeQuery()) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1));
            }
            SQLException e = result.get(3, TimeUnit.SECONDS);
            assertEquals("57014", e == null ? null : e.getSQLState());
            assertTrue(v.executeQuery("SELECT 1").next());
            interrupt.setString(1, "2601e799-51b3-47a7-a64f-18688d148887");
            try (ResultSet rs = interrupt.executeQuery()) {
                assertTrue(rs.next());
                assertFalse(rs.getBoolean(1), "an unknown id is false, never an error");
            }
        }
    }

    @Test
    void insideATransactionWithForwardedStatementsInTheSamePipeline() throws Exception {
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "ext-tx")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE ext_tx (v int)");
                s.execute("INSERT INTO ext_tx VALUES (1)");
                ResultSet rs = s.executeQuery("SELECT status, user_name FROM [SHOW SESSIONS]");
                assertTrue(rs.next());
                assertEquals("ACTIVE", rs.getString(1));
                assertEquals("alice", rs.getString(2));
                ResultSet mine = s.executeQuery("SELECT count(*) FROM ext_tx");
                assertTrue(mine.next());
                assertEquals(1, mine.getInt(1), "the transaction went on around the local statement");
            }
            c.rollback();
            try (Statement s = c.createStatement()) {
                assertEquals("42P01", assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM ext_tx")).getSQLState());
            }
            c.rollback();
        }
    }

    @Test
    void sessionControlInAFailedTransactionIsRefusedLikeAnyStatement() throws Exception {
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "ext-err")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                assertEquals("22012", assertThrows(SQLException.class, () -> s.execute("SELECT 1/0")).getSQLState());
                assertEquals("25P02", assertThrows(SQLException.class,
                        () -> s.executeQuery("SELECT session_id FROM [SHOW SESSIONS]")).getSQLState(),
                        "a failed transaction refuses session-control statements too");
            }
            c.rollback();
            try (Statement s = c.createStatement()) {
                assertTrue(s.executeQuery("SELECT session_id FROM [SHOW SESSIONS]").next());
            }
        }
    }

    /** One pipeline, one Sync: forwarded, local and forwarded statements answered in the order sent. */
    @Test
    void pipelineMixingLocalAndForwardedStatementsBeforeOneSync() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.logIn(java.util.Map.of("user", "alice", "database", "postgres"));
            raw.send(RawPgClient.concat(
                    RawPgClient.parse("", "SELECT 1"), RawPgClient.bind("", ""), RawPgClient.describePortal(""), RawPgClient.execute(""),
                    RawPgClient.parse("", "SHOW SESSIONS"), RawPgClient.bind("", ""), RawPgClient.describePortal(""), RawPgClient.execute(""),
                    RawPgClient.parse("", "SELECT 2"), RawPgClient.bind("", ""), RawPgClient.describePortal(""), RawPgClient.execute(""),
                    RawPgClient.sync()));
            assertEquals("12TDC" + "12TDC" + "12TDC" + "Z", raw.responseTypes());

            raw.send(RawPgClient.concat(
                    RawPgClient.parse("", "SELECT 1/0"), RawPgClient.bind("", ""), RawPgClient.execute(""),
                    RawPgClient.parse("", "SHOW SESSIONS"), RawPgClient.bind("", ""), RawPgClient.describePortal(""), RawPgClient.execute(""),
                    RawPgClient.sync()));
            assertEquals("1EZ", raw.responseTypes(), "after an error everything up to Sync is skipped");

            raw.send(RawPgClient.concat(
                    RawPgClient.parse("", "SHOW SESSIONS"), RawPgClient.bind("", ""), RawPgClient.execute(""),
                    RawPgClient.parse("", "SELECT 1/0"), RawPgClient.bind("", ""), RawPgClient.execute(""),
                    RawPgClient.parse("", "SHOW QUERIES"), RawPgClient.bind("", ""), RawPgClient.execute(""),
                    RawPgClient.sync()));
            assertEquals("12DC" + "1E" + "Z", raw.responseTypes(), "1/0 fails at Bind, where PostgreSQL plans it");

            raw.send(RawPgClient.query("SELECT 3"));
            assertEquals("TDCZ", raw.responseTypes(), "the session goes on normally");
        }
    }
}
