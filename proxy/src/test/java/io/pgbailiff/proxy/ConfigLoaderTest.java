package io.pgbailiff.proxy;

import org.junit.jupiter.api.Test;

import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    @Test
    void defaults() {
        Config c = ConfigLoader.load(List.of(), Map.of());
        assertEquals(new Config.HostPort("127.0.0.1", 6432), c.listen());
        assertEquals(new Config.HostPort("127.0.0.1", 5432), c.backend());
        assertEquals(1, c.nodeId());
        assertEquals(Duration.ofSeconds(5), c.connectTimeout());
    }

    @Test
    void flagsOverrideEnvironmentWhichOverridesDefaults() {
        Map<String, String> env = Map.of("PGBAILIFF_BACKEND", "db:5433", "PGBAILIFF_NODE_ID", "3",
                "PGBAILIFF_CONNECT_TIMEOUT", "2s");
        Config fromEnv = ConfigLoader.load(List.of(), env);
        assertEquals(new Config.HostPort("db", 5433), fromEnv.backend());
        assertEquals(3, fromEnv.nodeId());
        assertEquals(Duration.ofSeconds(2), fromEnv.connectTimeout());

        Config flags = ConfigLoader.load(List.of("--backend", "other:6000", "--node-id=9", "--connect-timeout", "250ms",
                "--listen", ":7000"), env);
        assertEquals(new Config.HostPort("other", 6000), flags.backend());
        assertEquals(9, flags.nodeId());
        assertEquals(Duration.ofMillis(250), flags.connectTimeout());
        assertEquals(new Config.HostPort("0.0.0.0", 7000), flags.listen());
    }

    @Test
    void aBackendHostThatStartsWithASlashIsASocketDirectory() {
        Config.HostPort withPort = ConfigLoader.load(List.of("--backend", "/var/run/postgresql:5433"), Map.of()).backend();
        assertTrue(withPort.isSocketDirectory());
        assertEquals("/var/run/postgresql/.s.PGSQL.5433", withPort.socketPath());
        assertEquals("/var/run/postgresql/.s.PGSQL.5433", withPort.describe());

        Config.HostPort noPort = ConfigLoader.load(List.of(), Map.of("PGBAILIFF_BACKEND", "/tmp/")).backend();
        assertEquals(new Config.HostPort("/tmp/", 5432), noPort);
        assertEquals("/tmp/.s.PGSQL.5432", noPort.socketPath());

        assertEquals("[0:0:0:0:0:0:0:1]:5000", Config.HostPort.of(new java.net.InetSocketAddress("::1", 5000)).toString());
        assertEquals("127.0.0.1:5000", Config.HostPort.of(new java.net.InetSocketAddress("127.0.0.1", 5000)).toString());

        Config.HostPort tcp = ConfigLoader.load(List.of("--backend", "db:5433"), Map.of()).backend();
        assertFalse(tcp.isSocketDirectory());
        assertEquals("db:5433", tcp.describe());
        assertThrows(ConfigLoader.InvalidSettingException.class,
                () -> ConfigLoader.load(List.of("--backend", "db.internal"), Map.of()));
        assertMessage("--listen: expected host:port, not a directory; a Unix-domain socket for clients is set with"
                + " --unix-socket-dir", "--listen", "/tmp");
        assertMessage("--http: expected host:port, not a directory; the HTTP endpoints are served over TCP only",
                "--http", "/tmp:9187");
    }

    @Test
    void clientsMayAlsoConnectOnAUnixDomainSocketInAnAbsoluteDirectory(@TempDir Path dir) {
        assertNull(Config.defaults().unixSocketDir());
        assertNull(Config.defaults().unixSocket(6432));
        Config config = ConfigLoader.load(List.of("--unix-socket-dir", dir.toString(), "--listen", ":6433"), Map.of());
        assertEquals(dir, config.unixSocketDir());
        assertEquals(dir.resolve(".s.PGSQL.6433"), config.unixSocket(config.listen().port()));
        assertNull(ConfigLoader.load(List.of("--unix-socket-dir", "off"), Map.of("PGBAILIFF_UNIX_SOCKET_DIR", dir.toString()))
                .unixSocketDir());

        assertMessage("--unix-socket-dir: expected an absolute directory (as psql -h takes it) or off, got 'sockets'",
                "--unix-socket-dir", "sockets");
        assertMessage("--unix-socket-dir: not a directory: " + dir.resolve("missing"),
                "--unix-socket-dir", dir.resolve("missing").toString());
        // the longest socket name, .s.PGSQL.65535, in a directory of 92 bytes makes 107; of 93, 108
        String longest = "/" + "d".repeat(91);
        assertMessage("--unix-socket-dir: not a directory: " + longest, "--unix-socket-dir", longest);
        assertMessage("--unix-socket-dir: the socket's path would be 108 bytes long; Linux allows 107",
                "--unix-socket-dir", longest + "d");
    }

    @Test
    void nodeIdsUpToThirtyTwoBitsUnsigned() {
        assertEquals(0xffffffffL, Integer.toUnsignedLong(ConfigLoader.load(List.of("--node-id", "4294967295"), Map.of()).nodeId()));
    }

    @Test
    void adminRolesAreAList() {
        assertEquals(List.of("ops", "dba"), ConfigLoader.load(List.of("--admin-roles", "ops, dba"), Map.of()).adminRoles());
        assertEquals(List.of(), ConfigLoader.load(List.of(), Map.of()).adminRoles());
        assertMessage("--admin-roles: not a plain role name: 'x;drop'", "--admin-roles", "ops,x;drop");
    }

    @Test
    void embeddedBackendIsASwitch() {
        assertTrue(ConfigLoader.load(List.of("--embedded-backend"), Map.of()).embeddedBackend());
        assertTrue(ConfigLoader.load(List.of(), Map.of("PGBAILIFF_EMBEDDED_BACKEND", "true")).embeddedBackend());
    }

    @Test
    void invalidSettingsNameTheSettingAndTheReason() {
        assertMessage("--node-id: must be between 1 and 4294967295, got 0", "--node-id", "0");
        assertMessage("--node-id: not a number: 'x'", "--node-id", "x");
        assertMessage("--backend: expected host:port, got 'nohost'", "--backend", "nohost");
        assertMessage("--listen: port out of range in ':70000'", "--listen", ":70000");
        assertMessage("--connect-timeout: not a duration: 'soon' (use e.g. 500ms, 5s, 2min, 1h)", "--connect-timeout", "soon");
        assertMessage("--connect-timeout: must be greater than zero, got '0s'", "--connect-timeout", "0s");
        assertMessage("unknown option --frobnicate (see --help)", "--frobnicate");
        assertMessage("--backend: missing value HOST:PORT|/DIR[:PORT]", "--backend");
        var e = assertThrows(ConfigLoader.InvalidSettingException.class,
                () -> ConfigLoader.load(List.of(), Map.of("PGBAILIFF_NODE_ID", "-1")));
        assertEquals("PGBAILIFF_NODE_ID: must be between 1 and 4294967295, got -1", e.getMessage());
    }

    @Test
    void everyNewSettingRefusesBadValuesWithItsName() {
        assertMessage("--http: expected host:port, got 'everywhere'", "--http", "everywhere");
        assertMessage("--backend-tls: expected disable, prefer, require, verify-ca or verify-full, got 'maybe'",
                "--backend-tls", "maybe");
        assertMessage("--max-client-connections: must be at least 1, got 0", "--max-client-connections", "0");
        assertMessage("--max-client-connections: not a number: 'many'", "--max-client-connections", "many");
        assertMessage("--startup-timeout: not a duration: 'later' (use e.g. 500ms, 5s, 2min, 1h)", "--startup-timeout", "later");
        assertMessage("--idle-session-timeout: must be greater than zero, got '-5s'", "--idle-session-timeout", "-5s");
        assertMessage("--idle-in-transaction-timeout: not a duration: 'x' (use e.g. 500ms, 5s, 2min, 1h)",
                "--idle-in-transaction-timeout", "x");
        assertMessage("--drain-timeout: must be greater than zero, got '0ms'", "--drain-timeout", "0ms");
        assertMessage("--log-format: expected text or json, got 'xml'", "--log-format", "xml");
        assertMessage("--threads: must be at least 1, got 0", "--threads", "0");
        assertMessage("--log-level: unknown level 'loud' (use trace, debug, info, warn, error or off)", "--log-level", "loud");
        assertMessage("--log-level: missing logger name before '=debug'", "--log-level", "=debug");
        assertMessage("--max-message-size: must be between 1024 and 1073741823, got 10", "--max-message-size", "10");
        assertMessage("--tls-require: expected true or false, got 'perhaps'", "--tls-require=perhaps");
        assertMessage("--tls-cert: needs --tls-key as well", "--tls-cert", "/etc/hostname");
        assertMessage("--tls-key: needs --tls-cert as well", "--tls-key", "/etc/hostname");
        assertMessage("--tls-require: needs --tls-cert and --tls-key", "--tls-require");
        assertMessage("--tls-cert: cannot read /no/such/cert.pem", "--tls-cert", "/no/such/cert.pem", "--tls-key", "/etc/hostname");
        assertMessage("--backend-tls-ca: cannot read /no/ca.pem", "--backend-tls", "verify-full", "--backend-tls-ca", "/no/ca.pem");
        assertMessage("--backend-tls-ca: only used with --backend-tls verify-ca or verify-full, not prefer",
                "--backend-tls-ca", "/etc/hostname");
        assertMessage("--config: cannot read /no/such.conf: no such file", "--config", "/no/such.conf");
    }

    @Test
    void newSettingsAreReadWithTheirDefaults() {
        Config d = ConfigLoader.load(List.of(), Map.of());
        assertEquals(new Config.HostPort("127.0.0.1", 9187), d.http());
        assertEquals(Config.BackendTls.PREFER, d.backendTls());
        assertEquals(10_000, d.maxClientConnections());
        assertEquals(Duration.ofSeconds(30), d.drainTimeout());
        assertEquals(Duration.ofSeconds(60), d.startupTimeout());
        assertNull(d.idleSessionTimeout());
        assertNull(d.idleInTransactionTimeout());
        assertEquals(Config.LogFormat.TEXT, d.logFormat());

        Config c = ConfigLoader.load(List.of("--http", "off", "--backend-tls", "verify-full", "--max-client-connections", "5",
                "--idle-session-timeout", "2m", "--idle-in-transaction-timeout", "1.5s", "--drain-timeout", "10s",
                "--log-format", "JSON", "--log-level", "warn, io.pgbailiff.audit=info"), Map.of());
        assertNull(c.http());
        assertEquals(Config.BackendTls.VERIFY_FULL, c.backendTls());
        assertEquals(5, c.maxClientConnections());
        assertEquals(Duration.ofMinutes(2), c.idleSessionTimeout());
        assertEquals(Duration.ofMillis(1500), c.idleInTransactionTimeout());
        assertEquals(Duration.ofSeconds(10), c.drainTimeout());
        assertEquals(Config.LogFormat.JSON, c.logFormat());
        assertDurations();
        assertEquals(Map.of("root", "warn", "io.pgbailiff.audit", "info"), c.logLevels());
        assertNull(ConfigLoader.load(List.of("--idle-session-timeout", "off"), Map.of()).idleSessionTimeout());
    }

    @Test
    void configFileSitsBetweenDefaultsAndTheEnvironment(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("pgbailiff.conf");
        Files.writeString(file, """
                # settings for the test
                backend = db.internal:5433
                node-id: 7
                admin-roles = "ops, dba"
                drain-timeout = 3s
                log-level = io.pgbailiff.audit=warn

                max-client-connections: 100
                """);
        Config fromFile = ConfigLoader.load(List.of("--config", file.toString()), Map.of());
        assertEquals(new Config.HostPort("db.internal", 5433), fromFile.backend());
        assertEquals(7, fromFile.nodeId());
        assertEquals(List.of("ops", "dba"), fromFile.adminRoles());
        assertEquals(Duration.ofSeconds(3), fromFile.drainTimeout());
        assertEquals(Map.of("io.pgbailiff.audit", "warn"), fromFile.logLevels());
        assertEquals(100, fromFile.maxClientConnections());

        Map<String, String> env = Map.of("PGBAILIFF_CONFIG", file.toString(), "PGBAILIFF_NODE_ID", "8");
        Config envOverFile = ConfigLoader.load(List.of(), env);
        assertEquals(8, envOverFile.nodeId());
        assertEquals(new Config.HostPort("db.internal", 5433), envOverFile.backend());

        Config flagsOverAll = ConfigLoader.load(List.of("--node-id", "9", "--backend", "other:1"), env);
        assertEquals(9, flagsOverAll.nodeId());
        assertEquals(new Config.HostPort("other", 1), flagsOverAll.backend());
        assertEquals(100, flagsOverAll.maxClientConnections());
    }

    @Test
    void badConfigFileLinesNameTheFileTheLineAndTheSetting(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "listen = :6432\nfrobnicate = yes\n");
        assertMessage(file + " line 2: unknown setting 'frobnicate' (see --help)", "--config", file.toString());
        Files.writeString(file, "# ok\nnode-id = zero\n");
        assertMessage(file + " line 2: node-id: not a number: 'zero'", "--config", file.toString());
        Files.writeString(file, "just some words\n");
        assertMessage(file + " line 1: expected 'setting = value', got 'just some words'", "--config", file.toString());
    }

    @Test
    void helpListsEverySettingWithItsEnvironmentNameAndDefault() {
        String help = ConfigLoader.help();
        for (String s : List.of("--listen", "PGBAILIFF_LISTEN", "127.0.0.1:6432", "--backend", "PGBAILIFF_BACKEND",
                "--node-id", "PGBAILIFF_NODE_ID", "--connect-timeout", "PGBAILIFF_CONNECT_TIMEOUT", "default 5s",
                "--embedded-backend", "--max-message-size", "--help", "--config", "PGBAILIFF_CONFIG",
                "--http", "PGBAILIFF_HTTP", "127.0.0.1:9187", "--tls-cert", "PGBAILIFF_TLS_CERT", "--tls-key",
                "--tls-require", "--backend-tls", "PGBAILIFF_BACKEND_TLS", "default prefer", "--backend-tls-ca",
                "--max-client-connections", "default 10000", "--startup-timeout", "--idle-in-transaction-timeout",
                "--idle-session-timeout", "default off", "--drain-timeout", "default 30s", "--log-format",
                "PGBAILIFF_LOG_FORMAT", "--log-level", "--threads", "PGBAILIFF_THREADS", "(half the CPUs)")) {
            assertTrue(help.contains(s), "help mentions " + s);
        }
    }

    /** PostgreSQL's units; a bare number is milliseconds and, for a timeout that may be off, zero is off, as there. */
    private static void assertDurations() {
        assertEquals(Duration.ofHours(1), ConfigLoader.parseDuration("1h"));
        assertEquals(Duration.ofMinutes(2), ConfigLoader.parseDuration("2min"));
        assertEquals(Duration.ofDays(1), ConfigLoader.parseDuration("1d"));
        assertEquals(Duration.ofMillis(250), ConfigLoader.parseDuration("250"));
        assertEquals(Duration.ofMillis(250), ConfigLoader.parseDuration(" 250 ms"));
        assertNull(ConfigLoader.parseOptionalDuration("0"));
        assertNull(ConfigLoader.parseOptionalDuration("0s"));
        assertNull(ConfigLoader.parseOptionalDuration("OFF"));
        assertEquals(Duration.ofSeconds(90), ConfigLoader.parseOptionalDuration("1.5min"));
        assertMessage("--connect-timeout: not a duration: '5 seconds' (use e.g. 500ms, 5s, 2min, 1h)", "--connect-timeout", "5 seconds");
        assertMessage("--connect-timeout: not a duration: 's' (use e.g. 500ms, 5s, 2min, 1h)", "--connect-timeout", "s");
    }

    private static void assertMessage(String expected, String... args) {
        var e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> ConfigLoader.load(List.of(args), Map.of()));
        assertEquals(expected, e.getMessage());
    }
}
