package io.pgbailiff.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backend reached over its Unix-domain socket ({@code --backend /dir:port}, as libpq reads a
 * host that starts with a slash): sessions, cancel requests and the readiness probe all go through
 * the socket, and TLS is not asked for on it even when the server offers it.
 */
class UnixSocketBackendIT {
    @TempDir
    static Path socketDir;
    private static EmbeddedPostgres backend;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates.Issued certs = TestCertificates.newAuthority("socket-ca").writeServer(socketDir, "socket-backend");
        backend = TestPostgres.startSeparate(Map.of("unix_socket_directories", socketDir.toString(),
                "ssl", "on", "ssl_cert_file", certs.serverCert().toString(), "ssl_key_file", certs.serverKey().toString()));
        try (Connection c = backend.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE alice LOGIN");
            ResultSet rs = s.executeQuery("SHOW hba_file");
            rs.next();
            // TCP is refused: every session below went through the socket
            Files.writeString(Path.of(rs.getString(1)), "local all all trust\nhost all all 0.0.0.0/0 reject\n");
            s.execute("SELECT pg_reload_conf()");
        }
        proxy = TestProxy.start("--backend", socketDir + ":" + backend.getPort());
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void sessionsRunOverTheSocketUnencrypted() throws Exception {
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "over-socket");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT inet_server_addr(), ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertTrue(rs.next());
            assertNull(rs.getString(1), "no server address: a Unix-domain socket");
            assertFalse(rs.getBoolean(2), "TLS is not asked for on a Unix-domain socket");
            assertEquals("alice", rs.getString(3));
            assertTrue(proxy.session("over-socket").backendPid() > 0, "SHOW SESSIONS knows the backend's pid");
        }
    }

    /** As libpq ignores sslmode on a Unix-domain socket, where PostgreSQL never offers TLS. */
    @Test
    void backendTlsSettingsDoNotApplyToTheSocket() throws Exception {
        try (TestProxy requiring = TestProxy.start("--backend", socketDir + ":" + backend.getPort(), "--backend-tls", "require");
             Connection c = requiring.connect("alice");
             ResultSet rs = c.createStatement().executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertTrue(rs.next());
            assertFalse(rs.getBoolean(1));
        }
    }

    @Test
    void cancelRequestsReachTheBackendThroughTheSocket() throws Exception {
        try (Connection victim = proxy.connect("alice", null, "ApplicationName", "socket-victim");
             Statement s = victim.createStatement()) {
            CompletableFuture<SQLException> sleeping = Async.execute(s, "SELECT pg_sleep(30) /* socket-victim */");
            try (Connection admin = proxy.connect("alice"); Statement a = admin.createStatement()) {
                awaitRunning(a, "socket-victim */");
                ResultSet rs = a.executeQuery("SELECT query_id FROM [SHOW QUERIES] WHERE application_name = 'socket-victim'");
                assertTrue(rs.next());
                a.execute("CANCEL QUERY '" + rs.getString(1) + "'");
            }
            SQLException e = sleeping.get(10, TimeUnit.SECONDS);
            assertEquals("57014", e == null ? null : e.getSQLState());

            CompletableFuture<SQLException> again = Async.execute(s, "SELECT pg_sleep(30) /* socket-victim again */");
            try (Connection watcher = proxy.connect("alice"); Statement w = watcher.createStatement()) {
                awaitRunning(w, "again */");
            }
            s.cancel();
            e = again.get(10, TimeUnit.SECONDS);
            assertEquals("57014", e == null ? null : e.getSQLState());
        }
    }

    /** Past the point where a cancel could reach the backend before it runs the statement. */
    private static void awaitRunning(Statement through, String text) {
        Waits.until(() -> {
            try (ResultSet rs = through.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                    + " AND query LIKE '%" + text + "' AND pid <> pg_backend_pid()")) {
                rs.next();
                return rs.getInt(1) == 1;
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, Duration.ofSeconds(10), "a backend running " + text);
    }

    @Test
    void readinessProbesTheSocket() {
        assertEquals(200, Http.get(proxy.server().httpAddress(), "/ready").statusCode());
    }

    @Test
    void aDirectoryWithoutTheSocketIsAConnectionFailure(@TempDir Path empty) throws Exception {
        try (TestProxy nowhere = TestProxy.start("--backend", empty.toString())) {
            SQLException e = assertThrows(SQLException.class, () -> nowhere.connect("alice").close());
            assertEquals("08006", e.getSQLState());
            assertTrue(e.getMessage().contains(empty + "/.s.PGSQL.5432: No such file or directory"), e.getMessage());
            assertEquals(503, Http.get(nowhere.server().httpAddress(), "/ready").statusCode());
        }
    }
}
