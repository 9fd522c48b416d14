package io.pgbailiff.it;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --max-client-connections}, {@code --startup-timeout}, {@code --idle-session-timeout}
 * and {@code --idle-in-transaction-timeout}, each ending only the connection it concerns, with
 * PostgreSQL's SQLSTATE.
 */
class LimitsAndTimeoutsIT {

    @Test
    void overTheConnectionLimitTheExtraClientGets53300AndTheOthersCarryOn() throws Exception {
        try (TestProxy limited = TestProxy.start("--max-client-connections", "3")) {
            List<Connection> admitted = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    admitted.add(limited.connect("alice", null, "ApplicationName", "limit-" + i));
                }
                SQLException refused = assertThrows(SQLException.class, () -> limited.connect("alice").close());
                assertEquals("53300", refused.getSQLState());
                assertTrue(refused.getMessage().contains("sorry, too many clients already"), refused.getMessage());
                assertEquals(1, limited.metric("pgbailiff_connections_rejected_total", "reason", "too_many_connections"));

                for (Connection c : admitted) {
                    try (ResultSet rs = c.createStatement().executeQuery("SELECT 7")) {
                        assertTrue(rs.next());
                        assertEquals(7, rs.getInt(1));
                    }
                }
                Statement sleeper = admitted.get(0).createStatement();
                CompletableFuture<SQLException> sleeping = Async.execute(sleeper, "SELECT pg_sleep(30)");
                limited.awaitRunning("limit-0", "pg_sleep(30)");
                sleeper.cancel();
                SQLException cancelled = sleeping.get(10, TimeUnit.SECONDS);
                assertEquals("57014", cancelled == null ? null : cancelled.getSQLState(),
                        "a cancel request still gets through when every slot is taken");

                admitted.remove(2).close();
                limited.awaitGone("limit-2");
                try (Connection again = limited.connect("alice"); ResultSet rs = again.createStatement().executeQuery("SELECT 1")) {
                    assertTrue(rs.next(), "a freed slot is taken by the next client");
                }
            } finally {
                for (Connection c : admitted) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aClientThatDoesNotFinishStartingUpIsRefusedAfterTheStartupTimeout() throws Exception {
        try (TestProxy proxy = TestProxy.start("--startup-timeout", "500ms")) {
            try (RawPgClient silent = new RawPgClient(proxy.port())) {
                long start = System.nanoTime();
                RawPgClient.Message m = silent.read();
                assertEquals('E', m.type());
                assertEquals("57014", m.fields().get('C'));
                assertEquals("canceling authentication due to timeout", m.fields().get('M'));
                silent.awaitClosedByServer();
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "refused near the timeout");
            }
            try (RawPgClient stalled = new RawPgClient(proxy.port())) {
                stalled.send(RawPgClient.startupPacket(196608, Map.of("user", "md5user", "database", "postgres",
                        "application_name", "stalled-auth")));
                RawPgClient.Message request = stalled.read();
                assertEquals('R', request.type(), "the backend asks for the password, which never comes");
                RawPgClient.Message m = stalled.read();
                assertEquals("57014", m.fields().get('C'));
                stalled.awaitClosedByServer();
            }
            Waits.until(() -> BackendActivity.backendsWithApplication("stalled-auth") == 0, Duration.ofSeconds(5),
                    "the half-authenticated backend connection closed");
            assertEquals(2, proxy.metric("pgbailiff_connections_rejected_total", "reason", "startup_timeout"));
            try (Connection c = proxy.connect("alice")) {
                Thread.sleep(800);
                assertTrue(c.isValid(2), "a session that finished starting up is not affected");
            }
        }
    }

    @Test
    void idleSessionTimeoutEndsIdleSessionsWith57P05() throws Exception {
        try (TestProxy proxy = TestProxy.start("--idle-session-timeout", "1s");
             Connection idle = proxy.connect("alice", null, "ApplicationName", "idle-session");
             Connection busy = proxy.connect("bob", null, "ApplicationName", "busy-session");
             Statement s = busy.createStatement()) {
            idle.createStatement().executeQuery("SELECT 1").close();
            CompletableFuture<SQLException> sleeping = Async.execute(s, "SELECT pg_sleep(2)");
            proxy.awaitGone("idle-session");
            SQLException e = assertThrows(SQLException.class, () -> idle.createStatement().executeQuery("SELECT 1"));
            assertEquals("57P05", e.getSQLState(), e.toString());
            assertNull(sleeping.get(10, TimeUnit.SECONDS), "a statement running longer than the timeout is not idle");
            assertTrue(busy.isValid(2));
        }
    }

    @Test
    void idleInTransactionTimeoutEndsSessionsIdleInATransactionWith25P03() throws Exception {
        try (TestProxy proxy = TestProxy.start("--idle-in-transaction-timeout", "1s");
             Connection inTx = proxy.connect("alice", null, "ApplicationName", "idle-in-tx");
             Connection outside = proxy.connect("bob", null, "ApplicationName", "idle-outside")) {
            outside.createStatement().executeQuery("SELECT 1").close();
            inTx.setAutoCommit(false);
            inTx.createStatement().executeQuery("SELECT 1").close();
            proxy.awaitGone("idle-in-tx");
            SQLException e = assertThrows(SQLException.class, () -> inTx.createStatement().executeQuery("SELECT 1"));
            assertEquals("25P03", e.getSQLState(), e.toString());
            Thread.sleep(500);
            assertTrue(outside.isValid(2), "a session idle outside a transaction is kept");
        }
    }
}
