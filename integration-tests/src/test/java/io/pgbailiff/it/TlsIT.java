package io.pgbailiff.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TLS on both sides of pgbailiff, with a CA the test makes: psql and pgjdbc encrypting to the
 * proxy (pgjdbc checking the certificate and host name), {@code --tls-require} refusing clear
 * text, and the proxy reaching a backend that has {@code ssl=on} with {@code verify-full}.
 */
class TlsIT {
    @TempDir
    static Path dir;
    static TestCertificates.Issued proxyCerts;
    static TestCertificates.Issued otherCa;
    static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxyCerts = TestCertificates.newAuthority("pgbailiff-test-ca").writeServer(dir, "proxy");
        otherCa = TestCertificates.newAuthority("some-other-ca").writeServer(dir, "other");
        proxy = TestProxy.start("--tls-cert", proxyCerts.serverCert().toString(), "--tls-key", proxyCerts.serverKey().toString());
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    /** The JDK would accept the pair, and every client's handshake would then fail. */
    @Test
    void aKeyThatIsNotTheCertificatesStopsStartUp() {
        var e = assertThrows(io.pgbailiff.proxy.ConfigLoader.InvalidSettingException.class, () -> TestProxy.start(
                "--tls-cert", proxyCerts.serverCert().toString(), "--tls-key", otherCa.serverKey().toString()).close());
        assertTrue(e.getMessage().startsWith("--tls-cert/--tls-key: a TLS handshake with " + proxyCerts.serverCert() + " and "
                + otherCa.serverKey() + " fails (") && e.getMessage().endsWith("is the key the certificate's own private key?"),
                e.getMessage());
    }

    @Test
    void psqlWithSslmodeRequireIsEncrypted() {
        Path psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH");
        try (ClientProcess p = ClientProcess.start(psql, Map.of("PGAPPNAME", "tls-psql"), List.of(
                "host=127.0.0.1 port=" + proxy.port() + " user=postgres dbname=postgres sslmode=require",
                "-X", "-A", "-t", "-c", "\\conninfo", "-c", "SELECT 40 + 2"))) {
            p.awaitSuccess(Duration.ofSeconds(20));
            assertTrue(p.stdout().contains("SSL connection (protocol: TLSv1."), p.describe());
            assertTrue(p.stdout().contains("42"), p.describe());
        }
    }

    @Test
    void pgjdbcVerifyFullChecksTheCertificateAndTheHost() throws Exception {
        try (Connection c = proxy.connect("alice", null, "ssl", "true", "sslmode", "verify-full",
                "sslrootcert", proxyCerts.caCert().toString(), "ApplicationName", "tls-jdbc");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tls FROM [SHOW SESSIONS] WHERE application_name = 'tls-jdbc'")) {
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1), "SHOW SESSIONS reports the session as TLS");
        }
        SQLException wrongCa = assertThrows(SQLException.class, () -> proxy.connect("alice", null, "ssl", "true",
                "sslmode", "verify-full", "sslrootcert", otherCa.caCert().toString()).close());
        assertEquals("08006", wrongCa.getSQLState(), "a certificate from another CA is refused: " + wrongCa);
    }

    @Test
    void tlsRequireRefusesClearTextWithAClearError() throws Exception {
        try (TestProxy strict = TestProxy.start("--tls-cert", proxyCerts.serverCert().toString(),
                "--tls-key", proxyCerts.serverKey().toString(), "--tls-require")) {
            SQLException e = assertThrows(SQLException.class,
                    () -> strict.connect("alice", null, "sslmode", "disable").close());
            assertEquals("28000", e.getSQLState());
            assertTrue(e.getMessage().contains("only encrypted connections"), e.getMessage());
            try (Connection c = strict.connect("alice", null, "sslmode", "require");
                 ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            Path psql = ClientProcess.onPath("psql").orElse(null);
            if (psql != null) {
                try (ClientProcess p = ClientProcess.start(psql, Map.of(), List.of(
                        "host=127.0.0.1 port=" + strict.port() + " user=alice dbname=postgres sslmode=disable",
                        "-X", "-c", "SELECT 1"))) {
                    p.awaitExit(Duration.ofSeconds(20));
                    assertEquals(2, p.exitCode(), p.describe());
                    assertTrue(p.stderr().contains("pgbailiff accepts only encrypted connections"), p.describe());
                }
            }
            strict.awaitSessions(List::isEmpty, Duration.ofSeconds(5), "no session left");
        }
    }

    @Test
    void startupPipelinedBehindSslRequestIsNeverProcessed() throws Exception {
        byte[] ssl = RawPgClient.sslRequest();
        byte[] startup = RawPgClient.startupPacket(196608, Map.of("user", "bob", "database", "postgres",
                "application_name", "tls-pipelined"));
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.send(ByteBuffer.allocate(ssl.length + startup.length).put(ssl).put(startup).array());
            RawPgClient.Message m = raw.read();
            assertEquals('E', m.type(), "not 'S': no handshake is started for a client that did not wait for it");
            assertEquals("08P01", m.fields().get('C'));
            assertTrue(m.fields().get('M').contains("unencrypted data after SSL request"), m.toString());
            raw.awaitClosedByServer();
        }
        assertTrue(proxy.sessions(s -> "tls-pipelined".equals(s.applicationName())).isEmpty());
        assertEquals(0, BackendActivity.backendsWithApplication("tls-pipelined"), "no backend connection was opened");
    }

    /**
     * A backend with TLS offers SCRAM-SHA-256-PLUS. A clear-text client is offered SCRAM-SHA-256
     * alone (libpq refuses a server offering -PLUS without TLS). A TLS client cannot bind to
     * pgbailiff's TLS connection: it is told how to connect instead of a bare failure.
     */
    @Test
    void scramThroughTlsToTheBackendFromClearTextAndTlsClients() throws Exception {
        Path psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH");
        TestCertificates.Issued backendCerts = TestCertificates.newAuthority("scram-backend-ca").writeServer(dir, "scram-backend");
        try (EmbeddedPostgres backend = TestPostgres.startSeparate(Map.of("ssl", "on",
                "ssl_cert_file", backendCerts.serverCert().toString(),
                "ssl_key_file", backendCerts.serverKey().toString()))) {
            try (Connection c = backend.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("SET password_encryption = 'scram-sha-256'");
                s.execute("CREATE ROLE scrammer LOGIN PASSWORD 'scram-secret'");
                ResultSet rs = s.executeQuery("SHOW hba_file");
                rs.next();
                java.nio.file.Files.writeString(Path.of(rs.getString(1)), """
                        local all all trust
                        host all scrammer 127.0.0.1/32 scram-sha-256
                        host all all 127.0.0.1/32 trust
                        """);
                s.execute("SELECT pg_reload_conf()");
            }
            try (TestProxy both = TestProxy.start("--backend", "127.0.0.1:" + backend.getPort(),
                    "--tls-cert", proxyCerts.serverCert().toString(), "--tls-key", proxyCerts.serverKey().toString())) {
                String conn = "host=127.0.0.1 port=" + both.port() + " user=scrammer dbname=postgres";
                try (ClientProcess clear = ClientProcess.start(psql, Map.of("PGPASSWORD", "scram-secret"),
                        List.of(conn + " sslmode=disable", "-X", "-A", "-t", "-c", "SELECT current_user"))) {
                    clear.awaitSuccess(Duration.ofSeconds(20));
                    assertEquals("scrammer\n", clear.stdout(), clear.describe());
                }
                try (ClientProcess noBinding = ClientProcess.start(psql, Map.of("PGPASSWORD", "scram-secret"),
                        List.of(conn + " sslmode=require channel_binding=disable", "-X", "-A", "-t", "-c", "SELECT current_user"))) {
                    noBinding.awaitSuccess(Duration.ofSeconds(20));
                    assertEquals("scrammer\n", noBinding.stdout(), noBinding.describe());
                }
                try (ClientProcess binding = ClientProcess.start(psql, Map.of("PGPASSWORD", "scram-secret"),
                        List.of(conn + " sslmode=require", "-X", "-c", "SELECT 1"))) {
                    binding.awaitExit(Duration.ofSeconds(20));
                    assertEquals(2, binding.exitCode(), binding.describe());
                    assertTrue(binding.stderr().contains("channel binding"), binding.describe());
                    assertTrue(binding.stderr().contains("Connect with channel_binding=disable"), binding.describe());
                }
            }
        }
    }

    @Test
    void backendWithSslOnIsReachedWithVerifyFull() throws Exception {
        TestCertificates.Issued backendCerts = TestCertificates.newAuthority("backend-ca").writeServer(dir, "backend");
        try (EmbeddedPostgres backend = TestPostgres.startSeparate(Map.of("ssl", "on",
                "ssl_cert_file", backendCerts.serverCert().toString(),
                "ssl_key_file", backendCerts.serverKey().toString()))) {
            String address = "127.0.0.1:" + backend.getPort();
            try (TestProxy verified = TestProxy.start("--backend", address, "--backend-tls", "verify-full",
                    "--backend-tls-ca", backendCerts.caCert().toString());
                 Connection c = verified.connect("postgres");
                 ResultSet rs = c.createStatement().executeQuery(
                         "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1), "the backend sees an encrypted connection");
                assertTrue(rs.getString(2).startsWith("TLSv1."), rs.getString(2));
            }
            try (TestProxy wrongCa = TestProxy.start("--backend", address, "--backend-tls", "verify-full",
                    "--backend-tls-ca", otherCa.caCert().toString())) {
                SQLException e = assertThrows(SQLException.class, () -> wrongCa.connect("postgres").close());
                assertEquals("08006", e.getSQLState());
                assertTrue(e.getMessage().contains("TLS handshake with the backend failed"), e.getMessage());
            }
            try (TestProxy preferred = TestProxy.start("--backend", address);
                 Connection c = preferred.connect("postgres");
                 ResultSet rs = c.createStatement().executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1), "the default, prefer, encrypts when the backend offers TLS");
            }
        }
        try (TestProxy required = TestProxy.start("--backend-tls", "require")) {
            SQLException e = assertThrows(SQLException.class, () -> required.connect("postgres").close());
            assertEquals("08006", e.getSQLState());
            assertTrue(e.getMessage().contains("the backend does not support SSL, but --backend-tls is require"), e.getMessage());
        }
    }
}
