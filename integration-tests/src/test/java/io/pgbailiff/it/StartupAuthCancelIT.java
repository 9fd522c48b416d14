package io.pgbailiff.it;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Startup, authentication and cancellation through pgbailiff. Tagged {@code compat}: CI runs
 * these on PostgreSQL 13 and 18 as well as the default version.
 */
@Tag("compat")
class StartupAuthCancelIT extends ProxyTestBase {
    @ParameterizedTest(name = "{0} logs in with {2}")
    @CsvSource({"md5user, md5pass, md5", "scramuser, scrampass, scram-sha-256", "pwuser, pwpass, password", "alice, , trust"})
    void passwordMethodsAreRelayed(String user, String password, String method) throws Exception {
        try (Connection c = proxy.connect(user, password, "ApplicationName", "auth-" + method);
             Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT current_user");
            assertTrue(rs.next());
            assertEquals(user, rs.getString(1));
            var session = proxy.sessions(x -> ("auth-" + method).equals(x.applicationName()));
            assertEquals(1, session.size());
            assertEquals(method, session.get(0).authenticationMethod());
        }
    }

    @Test
    void wrongPasswordIs28P01() {
        SQLException e = assertThrows(SQLException.class, () -> proxy.connect("scramuser", "not-the-password").close());
        assertEquals("28P01", e.getSQLState());
        SQLException md5 = assertThrows(SQLException.class, () -> proxy.connect("md5user", "wrong").close());
        assertEquals("28P01", md5.getSQLState());
    }

    @Test
    void unknownDatabaseIs3D000() {
        SQLException e = assertThrows(SQLException.class,
                () -> proxy.connect("postgres", null, "dbname", "no_such_database").close());
        assertEquals("3D000", e.getSQLState());
    }

    @Test
    void failedLoginsLeaveNoSession() {
        assertThrows(SQLException.class, () -> proxy.connect("scramuser", "wrong").close());
        proxy.awaitSessions(list -> list.stream().noneMatch(s -> "scramuser".equals(s.userName())),
                Duration.ofSeconds(5), "no session of a failed login");
    }

    @Test
    void jdbcStatementCancelStopsPgSleepWithin3Seconds() throws Exception {
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "jdbc-cancel"); Statement s = c.createStatement()) {
            CompletableFuture<SQLException> result = Async.execute(s, "SELECT pg_sleep(30) /* jdbc-cancel */");
            // past the point where a cancel could reach the backend before it runs the statement
            proxy.awaitRunning("jdbc-cancel", "jdbc-cancel */");
            long start = System.nanoTime();
            s.cancel();
            SQLException e = result.get(3, TimeUnit.SECONDS);
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3000);
            assertEquals("57014", e == null ? null : e.getSQLState());
            ResultSet rs = s.executeQuery("SELECT 1");
            assertTrue(rs.next(), "the connection stays usable after the cancel");
        }
    }

    @Test
    void clientSeesPgbailiffsOwnKeyNotTheBackends() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.send(RawPgClient.startupPacket(196608, Map.of("user", "alice", "database", "postgres")));
            RawPgClient.Message key = raw.readUntil('K');
            raw.readUntil('Z');
            int clientPid = key.buffer().getInt();
            int backendPid = proxy.sessions(s -> s.userName().equals("alice") && s.backendPid() != 0).stream()
                    .filter(s -> s.status().name().equals("IDLE")).findFirst().orElseThrow().backendPid();
            assertNotEquals(backendPid, clientPid);
        }
    }

    /**
     * Protocol 3.2 (PostgreSQL 18): a raw client asks for 3.2; an older backend answers with
     * NegotiateProtocolVersion and a 4-byte key, PostgreSQL 18 with a 32-byte key. Either way the
     * key the client received cancels its statement.
     */
    @Test
    void protocol32StartupAndVariableLengthCancelKey() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.send(RawPgClient.startupPacket(196610, Map.of("user", "alice", "database", "postgres",
                    "application_name", "raw-3.2")));
            boolean negotiated = false;
            RawPgClient.Message m;
            byte[] key = null;
            int pid = 0;
            while ((m = raw.read()).type() != 'Z') {
                if (m.type() == 'v') {
                    negotiated = true;
                    assertEquals(196608, m.buffer().getInt(), "an older server offers protocol 3.0");
                } else if (m.type() == 'K') {
                    ByteBuffer b = m.buffer();
                    pid = b.getInt();
                    key = new byte[b.remaining()];
                    b.get(key);
                } else if (m.type() == 'E') {
                    throw new AssertionError("startup failed: " + m);
                }
            }
            int major = TestPostgres.get().majorVersion();
            if (major >= 18) {
                assertEquals(false, negotiated, "PostgreSQL 18 speaks 3.2");
                assertEquals(32, key.length, "PostgreSQL 18 issues 32-byte keys in protocol 3.2");
            } else {
                assertTrue(negotiated, "PostgreSQL " + major + " negotiates down to 3.0");
                assertEquals(4, key.length);
            }
            raw.send(RawPgClient.query("SELECT pg_sleep(30) /* raw-3.2-cancel */"));
            proxy.awaitRunning("raw-3.2", "raw-3.2-cancel */");
            long start = System.nanoTime();
            try (RawPgClient canceller = new RawPgClient(proxy.port())) {
                canceller.send(RawPgClient.cancelRequest(pid, key));
                canceller.awaitClosedByServer();
            }
            RawPgClient.Message error = raw.readUntil('E');
            assertEquals("57014", error.fields().get('C'));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3000);
            raw.readUntil('Z');
        }
    }

    @Test
    void cancelRequestWithAWrongKeyIsIgnored() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.send(RawPgClient.startupPacket(196608, Map.of("user", "alice", "database", "postgres")));
            ByteBuffer keyData = raw.readUntil('K').buffer();
            int pid = keyData.getInt();
            int secret = keyData.getInt();
            raw.readUntil('Z');
            raw.send(RawPgClient.query("SELECT pg_sleep(1.5), 'survived'"));
            Thread.sleep(200);
            try (RawPgClient canceller = new RawPgClient(proxy.port())) {
                canceller.send(RawPgClient.cancelRequest(pid, ByteBuffer.allocate(4).putInt(secret ^ 1).array()));
                canceller.awaitClosedByServer();
            }
            try (RawPgClient canceller = new RawPgClient(proxy.port())) {
                canceller.send(RawPgClient.cancelRequest(pid + 1, ByteBuffer.allocate(4).putInt(secret).array()));
                canceller.awaitClosedByServer();
            }
            RawPgClient.Message m;
            while ((m = raw.read()).type() != 'Z') {
                assertNotEquals('E', m.type(), "the statement was not cancelled: " + m);
            }
        }
    }
}
