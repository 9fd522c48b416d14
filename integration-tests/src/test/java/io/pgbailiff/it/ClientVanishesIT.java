package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import org.junit.jupiter.api.Test;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client that disappears while its statement runs leaves nothing behind: pgbailiff cancels the
 * statement on the backend, the backend process ends, and the session leaves the registry. The
 * backend is checked directly in {@code pg_stat_activity}, not through the proxy.
 */
class ClientVanishesIT extends ProxyTestBase {
    private static final Duration GONE_WITHIN = Duration.ofSeconds(5);

    @Test
    void killedPsqlLeavesNoBackendRunningItsStatement() {
        Path psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH");
        String marker = "vanish-marker";
        String app = "vanish-psql";
        try (ClientProcess p = ClientProcess.start(psql, Map.of("PGAPPNAME", app), List.of(
                "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "-U", "postgres", "-d", "postgres",
                "-X", "-v", "ON_ERROR_STOP=1", "-c", "select pg_sleep(60) /* " + marker + " */"))) {
            SessionSnapshot session = proxy.awaitRunning(app, marker);

            p.process().destroyForcibly();
            assertTrue(p.waitFor(Duration.ofSeconds(5)), "psql killed");

            assertBackendAndSessionGone(app, marker, session.backendPid());
        }
    }

    @Test
    void rawClientClosingItsSocketLeavesNoBackendRunningItsStatement() throws Exception {
        String marker = "raw-vanish";
        String app = "vanish-raw";
        SessionSnapshot session;
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.logIn(Map.of("user", "alice", "database", "postgres",
                    "application_name", app));
            raw.send(RawPgClient.query("select pg_sleep(60) /* " + marker + " */"));
            session = proxy.awaitRunning(app, marker);
            // closed without a Terminate message
        }
        assertBackendAndSessionGone(app, marker, session.backendPid());
    }

    /**
     * pgjdbc, extended query protocol, its socket reset (SO_LINGER 0: the proxy reads a RST, not an
     * orderly end of stream) while the statement runs.
     */
    @Test
    void jdbcClientWhoseSocketIsResetLeavesNoBackendRunningItsStatement() throws Exception {
        String marker = "jdbc-vanish";
        String app = "vanish-jdbc";
        CapturingSocketFactory.SOCKETS.remove(app);
        try (Connection c = proxy.connect("bob", null, "ApplicationName", app,
                "socketFactory", CapturingSocketFactory.class.getName(), "socketFactoryArg", app);
             Statement s = c.createStatement()) {
            CompletableFuture<SQLException> result = Async.execute(s, "select pg_sleep(60) /* " + marker + " */");
            SessionSnapshot session = proxy.awaitRunning(app, marker);

            Socket socket = CapturingSocketFactory.SOCKETS.remove(app);
            assertNotNull(socket, "pgjdbc used the capturing socket factory");
            socket.setSoLinger(true, 0);
            socket.close();

            assertNotNull(result.get(10, TimeUnit.SECONDS), "the statement failed on the client");
            assertBackendAndSessionGone(app, marker, session.backendPid());
        }
    }

    private static void assertBackendAndSessionGone(String app, String marker, int backendPid) {
        Waits.until(() -> BackendActivity.backendsWithQuery(marker) == 0, GONE_WITHIN,
                () -> "no backend with the statement marked '" + marker + "' still there; backend pid " + backendPid
                        + (BackendActivity.backendExists(backendPid) ? " is still connected" : " is gone"));
        assertTrue(!BackendActivity.backendExists(backendPid), "backend process " + backendPid + " ended");
        proxy.awaitSessions(list -> list.stream().noneMatch(s -> app.equals(s.applicationName())), GONE_WITHIN,
                "the session of " + app + " gone from the registry");
        assertEquals(List.of(), proxy.sessions(s -> app.equals(s.applicationName())));
    }

    /** A pgjdbc socket factory that remembers each socket under its {@code socketFactoryArg}. */
    public static final class CapturingSocketFactory extends SocketFactory {
        static final Map<String, Socket> SOCKETS = new ConcurrentHashMap<>();

        private final String key;

        public CapturingSocketFactory(String key) {
            this.key = key;
        }

        @Override
        public Socket createSocket() {
            Socket s = new Socket();
            SOCKETS.put(key, s);
            return s;
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            throw new UnsupportedOperationException("pgjdbc creates unconnected sockets");
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            throw new UnsupportedOperationException("pgjdbc creates unconnected sockets");
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            throw new UnsupportedOperationException("pgjdbc creates unconnected sockets");
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            throw new UnsupportedOperationException("pgjdbc creates unconnected sockets");
        }
    }
}
