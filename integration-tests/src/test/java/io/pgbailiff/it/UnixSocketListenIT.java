package io.pgbailiff.it;

import io.pgbailiff.proxy.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Clients on pgbailiff's own Unix-domain socket ({@code --unix-socket-dir}), reached as psql
 * reaches PostgreSQL with {@code -h DIR}: session control, cancel, and PostgreSQL's rules for the
 * socket file and for TLS there.
 */
class UnixSocketListenIT {
    @TempDir
    static Path socketDir;
    private static Path psql;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH: skipping the Unix-domain socket tests");
        proxy = TestProxy.start("--unix-socket-dir", socketDir.toString());
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** psql as postgres through the socket in {@code dir} for a proxy listening on {@code port}. */
    private static ClientProcess psql(Path dir, int port, String applicationName, String... args) {
        List<String> all = new ArrayList<>(List.of("-h", dir.toString(), "-p", Integer.toString(port),
                "-U", "postgres", "-d", "postgres", "-X", "-v", "ON_ERROR_STOP=1"));
        all.addAll(List.of(args));
        return ClientProcess.start(psql, Map.of("PGAPPNAME", applicationName), all);
    }

    @Test
    void theSocketIsNamedAsPostgresNamesItsOwnAndOpenToEveryLocalUser() throws IOException {
        Path socket = socketDir.resolve(".s.PGSQL." + proxy.port());
        assertEquals(socket, proxy.server().unixSocket());
        assertTrue(Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther(),
                socket + " is a socket");
        assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    @Test
    void psqlOnTheSocketIsASessionLikeAnyOther() {
        try (ClientProcess p = psql(socketDir, proxy.port(), "socket-it", "-A", "-t", "-F", "|",
                "-c", "SELECT current_user, 6 * 7", "-c", "SHOW SESSIONS")) {
            p.awaitSuccess(Duration.ofSeconds(30));
            String out = p.stdout();
            assertTrue(out.startsWith("postgres|42\n"), p.describe());
            assertTrue(out.contains("|postgres|trust|[local]|socket-it|SHOW SESSIONS|"),
                    "SHOW SESSIONS names a socket client [local], as PostgreSQL's logs do: " + p.describe());
        }
        proxy.awaitGone("socket-it");
    }

    /** psql's Ctrl-C sends its CancelRequest through the socket it connected on. */
    @Test
    void ctrlCOnTheSocketCancelsTheRunningStatement() {
        try (ClientProcess p = psql(socketDir, proxy.port(), "socket-it-cancel", "-c", "select pg_sleep(30)")) {
            proxy.awaitRunning("socket-it-cancel", "select pg_sleep(30)");
            p.signal("INT");
            assertTrue(p.waitFor(Duration.ofSeconds(5)), "psql still running 5 s after SIGINT: " + p.describe());
            assertNotEquals(0, p.exitCode(), p.describe());
            assertTrue(p.stderr().contains("canceling statement due to user request"), p.describe());
            assertEquals(0, BackendActivity.activeBackendsWithQuery("select pg_sleep(30)"));
        }
        proxy.awaitGone("socket-it-cancel");
    }

    /**
     * As PostgreSQL: TLS is not offered on the socket, and {@code --tls-require} does not apply
     * there (libpq does not ask for TLS on a socket even with sslmode=require); TCP clients are
     * still held to it.
     */
    @Test
    void tlsIsNeitherOfferedNorRequiredOnTheSocket(@TempDir Path dir) throws Exception {
        TestCertificates.Issued certs = TestCertificates.newAuthority("socket-listen-ca").writeServer(dir, "localhost");
        try (TestProxy requiring = TestProxy.start("--unix-socket-dir", dir.toString(),
                "--tls-cert", certs.serverCert().toString(), "--tls-key", certs.serverKey().toString(), "--tls-require")) {
            try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(requiring.server().unixSocket()))) {
                raw.write(ByteBuffer.wrap(RawPgClient.sslRequest()));
                ByteBuffer answer = ByteBuffer.allocate(1);
                assertEquals(1, raw.read(answer));
                assertEquals('N', answer.get(0), "SSLRequest on the socket is answered N");
            }
            try (ClientProcess p = ClientProcess.start(psql, Map.of("PGAPPNAME", "socket-it-tls", "PGSSLMODE", "require"),
                    List.of("-h", dir.toString(), "-p", Integer.toString(requiring.port()), "-U", "postgres",
                            "-d", "postgres", "-X", "-A", "-t", "-c", "SELECT 1"))) {
                p.awaitSuccess(Duration.ofSeconds(30));
                assertEquals("1\n", p.stdout(), p.describe());
            }
            SQLException refused = assertThrows(SQLException.class,
                    () -> requiring.connect("postgres", null, "sslmode", "disable").close());
            assertEquals("28000", refused.getSQLState(), "a TCP client without TLS is still refused");
        }
    }

    @Test
    void aSocketLeftBehindIsReplacedOneInUseIsNotAndStoppingRemovesIt(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        Path socket = dir.resolve(".s.PGSQL." + port);
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "closing a socket leaves its file behind");

        try (TestProxy restarted = TestProxy.start("--listen", "127.0.0.1:" + port, "--unix-socket-dir", dir.toString())) {
            try (ClientProcess p = psql(dir, port, "socket-it-restarted", "-A", "-t", "-c", "SELECT 1")) {
                p.awaitSuccess(Duration.ofSeconds(30));
            }
            // the same port on another loopback address: TCP binds, the socket file is taken
            var e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> TestProxy.start(
                    "--listen", "127.0.0.2:" + port, "--unix-socket-dir", dir.toString()).close());
            assertEquals("--unix-socket-dir: cannot listen on " + socket + ": another server is listening on it",
                    e.getMessage());
            try (ServerSocket released = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.2"))) {
                assertEquals(port, released.getLocalPort(), "the refused start let go of its TCP port");
            }
            try (ClientProcess p = psql(dir, port, "socket-it-still", "-A", "-t", "-c", "SELECT 1")) {
                p.awaitSuccess(Duration.ofSeconds(30));
            }
        }
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "a stopped pgbailiff removes its socket");

        Files.writeString(socket, "not a socket");
        var e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> TestProxy.start(
                "--listen", "127.0.0.1:" + port, "--unix-socket-dir", dir.toString()).close());
        assertEquals("--unix-socket-dir: cannot listen on " + socket + ": the file exists and is not a socket",
                e.getMessage());
        assertEquals("not a socket", Files.readString(socket), "a file that is not a socket is left alone");

        Files.delete(socket);
        assertEquals(0, new ProcessBuilder("mkfifo", socket.toString()).inheritIO().start().waitFor());
        e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> TestProxy.start(
                "--listen", "127.0.0.1:" + port, "--unix-socket-dir", dir.toString()).close());
        assertEquals("--unix-socket-dir: cannot listen on " + socket + ": the file exists and is not a socket",
                e.getMessage());
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "nor is a named pipe");
    }
}
