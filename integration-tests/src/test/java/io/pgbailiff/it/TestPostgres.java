package io.pgbailiff.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.zip.ZipFile;

/**
 * The real PostgreSQL the integration tests run against, one per test JVM: an embedded server of
 * the version named by {@code -Dpgbailiff.it.pg} (13, 17 or 18; default 17), with users for
 * every authentication method:
 * <ul>
 *   <li>{@code postgres}: superuser, trust</li>
 *   <li>{@code md5user} / {@code md5pass}: md5</li>
 *   <li>{@code scramuser} / {@code scrampass}: scram-sha-256</li>
 *   <li>{@code pwuser} / {@code pwpass}: cleartext password</li>
 *   <li>{@code alice}, {@code bob}, {@code root}, {@code maxroach}: ordinary users, trust</li>
 *   <li>{@code signaller}: member of {@code pg_signal_backend}; {@code watcher}: of {@code pg_read_all_stats}</li>
 *   <li>{@code boss}: a second superuser; {@code opsuser}: member of {@code ops}, an admin role for pgbailiff</li>
 * </ul>
 */
public final class TestPostgres {
    private static TestPostgres instance;

    private final EmbeddedPostgres postgres;
    private final int majorVersion;

    private TestPostgres(EmbeddedPostgres postgres, int majorVersion) {
        this.postgres = postgres;
        this.majorVersion = majorVersion;
    }

    public static synchronized TestPostgres get() {
        if (instance == null) {
            instance = start(Integer.parseInt(System.getProperty("pgbailiff.it.pg", "17")));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    instance.postgres.close();
                } catch (IOException ignored) {
                    // the JVM is going away; the data directory is temporary
                }
            }));
        }
        return instance;
    }

    /** The archive of PostgreSQL binaries of that major version. */
    static Path binaries(int major) {
        Path jar = Path.of(System.getProperty("pgbailiff.it.pg.binaries", "target/pg-binaries"), "postgres-" + major + ".jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException("no PostgreSQL " + major + " binaries at " + jar + " (supported: 13, 17, 18)");
        }
        return jar;
    }

    private static TestPostgres start(int major) {
        Path jar = binaries(major);
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setPgBinaryResolver((system, hardware) -> binaryArchive(jar, system, hardware))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "300")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .start();
            TestPostgres t = new TestPostgres(pg, major);
            t.setUpUsers();
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A PostgreSQL of its own, of the same version, with extra server settings, for a test that
     * needs one configured differently; the caller closes it.
     */
    static EmbeddedPostgres startSeparate(java.util.Map<String, String> serverConfig) {
        Path jar = binaries(get().majorVersion);
        try {
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setPgBinaryResolver((system, hardware) -> binaryArchive(jar, system, hardware))
                    .setServerConfig("listen_addresses", "127.0.0.1");
            serverConfig.forEach(b::setServerConfig);
            return b.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static InputStream binaryArchive(Path jar, String system, String hardware) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            String name = ("postgres-" + system + "-" + hardware + ".txz").toLowerCase(java.util.Locale.ROOT);
            var entry = zip.getEntry(name);
            if (entry == null) {
                throw new IOException("no " + name + " in " + jar);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return new ByteArrayInputStream(in.readAllBytes());
            }
        }
    }

    private void setUpUsers() throws SQLException, IOException {
        try (Connection c = directConnection("postgres", "postgres"); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'md5'");
            s.execute("CREATE ROLE md5user LOGIN PASSWORD 'md5pass'");
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE scramuser LOGIN PASSWORD 'scrampass'");
            s.execute("CREATE ROLE pwuser LOGIN PASSWORD 'pwpass'");
            s.execute("CREATE ROLE alice LOGIN");
            s.execute("CREATE ROLE bob LOGIN");
            s.execute("CREATE ROLE root LOGIN");
            s.execute("CREATE ROLE maxroach LOGIN");
            s.execute("CREATE ROLE signaller LOGIN IN ROLE pg_signal_backend");
            s.execute("CREATE ROLE watcher LOGIN IN ROLE pg_read_all_stats");
            s.execute("CREATE ROLE boss LOGIN SUPERUSER");
            s.execute("CREATE ROLE ops");
            s.execute("CREATE ROLE opsuser LOGIN IN ROLE ops");
            s.execute("GRANT ALL ON SCHEMA public TO PUBLIC");
            var rs = s.executeQuery("SHOW hba_file");
            rs.next();
            Files.writeString(Path.of(rs.getString(1)), """
                    local all all trust
                    host all md5user 127.0.0.1/32 md5
                    host all scramuser 127.0.0.1/32 scram-sha-256
                    host all pwuser 127.0.0.1/32 password
                    host all all 127.0.0.1/32 trust
                    host all all ::1/128 trust
                    """);
            s.execute("SELECT pg_reload_conf()");
        }
    }

    /** A fresh, empty database of that name, for a test class that wants its own. */
    static void recreateDatabase(String name) throws SQLException {
        dropDatabase(name);
        try (Connection c = get().superuser(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
    }

    /** Drops the database, ending any session still connected to it. */
    static void dropDatabase(String name) throws SQLException {
        try (Connection c = get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public int majorVersion() {
        return majorVersion;
    }

    /** A connection straight to PostgreSQL, bypassing the proxy: the tests' independent view of the backend. */
    public Connection directConnection(String user, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database, p);
    }

    public Connection superuser() throws SQLException {
        return directConnection("postgres", "postgres");
    }
}
