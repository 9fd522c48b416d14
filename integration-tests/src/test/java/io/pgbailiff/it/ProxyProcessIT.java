package io.pgbailiff.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real pgbailiff process ({@code proxy/target/pgbailiff.jar}) as an operator runs it. On
 * SIGTERM it stops accepting, lets running statements finish within {@code --drain-timeout},
 * ends the rest with FATAL 57P01, and exits 0. A bad setting stops it with one line and exit
 * code 2. {@code --log-format json} writes one JSON object per line.
 */
class ProxyProcessIT {
    private static final Path JAR = Path.of(System.getProperty("pgbailiff.jar", "../proxy/target/pgbailiff.jar"));

    @BeforeAll
    static void jarIsBuilt() {
        assertTrue(Files.isRegularFile(JAR), "the runnable jar is built first (mvn package): " + JAR.toAbsolutePath());
    }

    @Test
    void aRunningStatementFinishesWithinTheDrainTimeoutAndTheProcessExitsZero() throws Exception {
        try (Proxy p = Proxy.start("--drain-timeout", "10s");
             Connection running = p.connect("drain-running");
             Connection idle = p.connect("drain-idle");
             Statement s = running.createStatement()) {
            CompletableFuture<SQLException> sleep = Async.execute(s, "SELECT pg_sleep(2)");
            BackendActivity.awaitActive("pg_sleep(2)", Duration.ofSeconds(10));
            p.terminate();
            Waits.until(() -> !p.accepting(), Duration.ofSeconds(5), "the listen socket closed");
            Waits.until(() -> BackendActivity.backendsWithApplication("drain-idle") == 0, Duration.ofSeconds(3),
                    "the idle session is ended at once, without waiting for its client");
            SQLException idleEnded = assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"));
            assertEquals("57P01", idleEnded.getSQLState(), "the idle session's client reads why: " + idleEnded);
            assertNull(sleep.get(10, TimeUnit.SECONDS), "the running statement completed");
            assertEquals(0, p.awaitExit(Duration.ofSeconds(10)), p.output());
            assertTrue(p.output().contains("shutting down"), p.output());
        }
    }

    /** Also: /ready turns 503 as the drain starts, so that load balancers stop sending clients; the socket file goes. */
    @Test
    void anOpenTransactionMayFinishDuringTheDrainThenItsSessionEnds(@TempDir Path socketDir) throws Exception {
        int httpPort = Ports.free();
        InetSocketAddress http = new InetSocketAddress("127.0.0.1", httpPort);
        try (Proxy p = Proxy.start("--drain-timeout", "10s", "--http", "127.0.0.1:" + httpPort,
                "--unix-socket-dir", socketDir.toString());
             Connection inTx = p.connect("drain-transaction")) {
            Path socket = socketDir.resolve(".s.PGSQL." + p.port);
            assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), p.output());
            assertEquals(200, Http.get(http, "/ready").statusCode());
            inTx.setAutoCommit(false);
            try (Statement s = inTx.createStatement()) {
                s.execute("SELECT 1");
                p.terminate();
                Waits.until(() -> !p.accepting(), Duration.ofSeconds(5), "the listen socket closed");
                var ready = Http.get(http, "/ready");
                assertEquals(503, ready.statusCode(), ready.body());
                assertEquals("shutting down\n", ready.body());
                assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the Unix-domain socket is gone with the listener");
                Thread.sleep(500);
                s.execute("SELECT 2");
            }
            inTx.commit();
            SQLException ended = assertThrows(SQLException.class, () -> inTx.createStatement().execute("SELECT 3"));
            assertEquals("57P01", ended.getSQLState(), () -> "the session ends once its transaction has: " + ended + " caused by " + ended.getCause());
            assertEquals(0, p.awaitExit(Duration.ofSeconds(10)), p.output());
        }
    }

    @Test
    void statementsStillRunningAtTheDrainTimeoutAreEndedWith57P01() throws Exception {
        try (Proxy p = Proxy.start("--drain-timeout", "1s");
             Connection running = p.connect("drain-long");
             Statement s = running.createStatement()) {
            CompletableFuture<SQLException> sleep = Async.execute(s, "SELECT pg_sleep(60)");
            BackendActivity.awaitActive("pg_sleep(60)", Duration.ofSeconds(10));
            long start = System.nanoTime();
            p.terminate();
            SQLException e = sleep.get(10, TimeUnit.SECONDS);
            assertEquals("57P01", e == null ? null : e.getSQLState(), String.valueOf(e));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "ended soon after the 1 s drain");
            assertEquals(0, p.awaitExit(Duration.ofSeconds(10)), p.output());
            Waits.until(() -> BackendActivity.activeBackendsWithQuery("pg_sleep(60)") == 0, Duration.ofSeconds(5),
                    "the statement was cancelled on the backend too");
        }
    }

    /**
     * SIGHUP reads the TLS certificate and key again, as a reload does for PostgreSQL, so a
     * renewed certificate needs no restart; sessions go on. Files that cannot be used are refused
     * with a log line, and the certificate in use stays.
     */
    @Test
    void sighupReadsTheTlsCertificateAgainAndTheSessionsGoOn(@TempDir Path dir) throws Exception {
        TestCertificates.Issued first = TestCertificates.newAuthority("first-ca").writeServer(dir, "proxy");
        try (Proxy p = Proxy.start("--tls-cert", first.serverCert().toString(), "--tls-key", first.serverKey().toString());
             Connection open = p.connect("hup-open")) {
            p.verifyFull(first.caCert()).close();
            TestCertificates.Issued second = TestCertificates.newAuthority("second-ca").writeServer(dir, "proxy");
            p.hangUp();
            Waits.until(() -> p.output().contains("read again"), Duration.ofSeconds(10), p::output);
            p.verifyFull(second.caCert()).close();
            SQLException oldCa = assertThrows(SQLException.class, () -> p.verifyFull(first.caCert()).close());
            assertEquals("08006", oldCa.getSQLState(), "new connections get the new certificate: " + oldCa);

            TestCertificates.Issued other = TestCertificates.newAuthority("other-ca").writeServer(Files.createDirectories(dir.resolve("other")), "other");
            Files.copy(other.serverKey(), second.serverKey(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            p.hangUp();
            Waits.until(() -> p.output().contains("are kept"), Duration.ofSeconds(10), p::output);
            assertTrue(p.output().contains("is the key the certificate's own private key?"), p.output());
            p.verifyFull(second.caCert()).close();
            assertTrue(open.createStatement().execute("SELECT 1"), "the session made before the reloads goes on");
        }
    }

    @Test
    void aBadSettingStopsStartUpWithOneLineNamingIt() throws Exception {
        Process p = new ProcessBuilder(javaCommand("--backend-tls", "sometimes")).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(2, p.exitValue(), out);
        assertEquals("pgbailiff: --backend-tls: expected disable, prefer, require, verify-ca or verify-full, got 'sometimes'", out);
    }

    @Test
    void aTakenPortStopsStartUpWithOneLineNamingTheSetting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            for (String setting : List.of("--listen", "--http")) {
                List<String> command = javaCommand("--listen", "127.0.0.1:" + Ports.free(), "--http", "127.0.0.1:" + Ports.free(),
                        setting, address);
                Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                String out = new String(p.getInputStream().readAllBytes()).strip();
                assertEquals(2, p.exitValue(), out);
                assertTrue(out.startsWith("pgbailiff: " + setting + ": cannot listen on " + address + ": ")
                        && out.endsWith("Address already in use") && out.lines().count() == 1, out);
            }
        }
    }

    @Test
    void jsonLogLinesWithLevelsPerLogger() throws Exception {
        try (Proxy p = Proxy.start("--log-format", "json", "--log-level", "io.pgbailiff.audit=info,io.pgbailiff.proxy=debug");
             Connection admin = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + p.port + "/postgres?user=postgres");
             Connection victim = p.connect("json-victim")) {
            String id;
            try (Statement s = admin.createStatement();
                 var rs = s.executeQuery("SELECT session_id FROM [SHOW SESSIONS] WHERE application_name = 'json-victim'")) {
                assertTrue(rs.next());
                id = rs.getString(1);
                s.execute("CANCEL SESSION '" + id + "'");
            }
            Waits.until(() -> p.output().contains("cancel session: by user postgres"), Duration.ofSeconds(5),
                    () -> "the audit line: " + p.output());
            List<String> lines = p.output().lines().filter(l -> !l.isBlank()).toList();
            for (String line : lines) {
                assertTrue(line.startsWith("{") && line.endsWith("}"), "a JSON object per line: " + line);
            }
            assertTrue(lines.stream().anyMatch(l -> l.contains("\"logger\":\"io.pgbailiff.audit\"") && l.contains(id)),
                    p.output());
            assertTrue(lines.stream().anyMatch(l -> l.contains("\"level\":\"DEBUG\"")), "debug enabled for io.pgbailiff.proxy");
        }
    }

    private static List<String> javaCommand(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return command;
    }

    /** pgbailiff as its own process, in front of the test PostgreSQL. */
    private static final class Proxy implements AutoCloseable {
        private final Process process;
        private final Path log;
        private final int port;

        private Proxy(Process process, Path log, int port) {
            this.process = process;
            this.log = log;
            this.port = port;
        }

        static Proxy start(String... flags) throws IOException {
            int port = Ports.free();
            List<String> command = javaCommand("--listen", "127.0.0.1:" + port,
                    "--backend", "127.0.0.1:" + TestPostgres.get().port(), "--http", "off");
            command.addAll(List.of(flags));
            Path log = Files.createTempFile("pgbailiff-shutdown-", ".log");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Proxy p = new Proxy(process, log, port);
            Waits.until(() -> p.output().contains("listening on") || !process.isAlive(), Duration.ofSeconds(30),
                    () -> "pgbailiff started: " + p.output());
            assertTrue(process.isAlive(), p.output());
            return p;
        }

        Connection connect(String applicationName) throws SQLException {
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=alice&ApplicationName="
                    + applicationName);
        }

        boolean accepting() {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /** A TLS connection that checks the proxy's certificate against {@code caCert}. */
        Connection verifyFull(Path caCert) throws SQLException {
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=alice&sslmode=verify-full"
                    + "&sslrootcert=" + caCert);
        }

        /** SIGHUP, as {@code kill -HUP} and {@code systemctl reload} send it. */
        void hangUp() throws IOException, InterruptedException {
            assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start().waitFor());
        }

        /** SIGTERM, as {@code docker stop} and Kubernetes send it. */
        void terminate() {
            process.destroy();
        }

        int awaitExit(Duration timeout) throws InterruptedException {
            assertTrue(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS), "exited: " + output());
            return process.exitValue();
        }

        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            process.destroyForcibly();
            Files.deleteIfExists(log);
        }

    }
}
