package io.pgbailiff.it;

import ch.qos.logback.classic.Level;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A PostgreSQL of the test run's version that belongs to one test, so it can be stopped and
 * started again, on the same port and data directory, without disturbing the others. Users:
 * {@code postgres} (superuser), {@code alice} and {@code bob}; trust authentication.
 */
final class RestartablePostgres implements AutoCloseable {
    private final Path dataDirectory;
    private final Path binaries;
    private final int port;
    private EmbeddedPostgres running;

    private RestartablePostgres(Path dataDirectory, Path binaries, int port) {
        this.dataDirectory = dataDirectory;
        this.binaries = binaries;
        this.port = port;
    }

    static RestartablePostgres start() {
        try {
            int port = Ports.free();
            RestartablePostgres pg = new RestartablePostgres(Files.createTempDirectory("pgbailiff-it-restartable"),
                    TestPostgres.binaries(TestPostgres.get().majorVersion()), port);
            pg.startAgain();
            try (Connection c = pg.connect("postgres"); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE alice LOGIN");
                s.execute("CREATE ROLE bob LOGIN");
                s.execute("CHECKPOINT");
            }
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    int port() {
        return port;
    }

    /** Starts the server on its port and data directory (created by the first start). */
    void startAgain() {
        if (running != null) {
            throw new IllegalStateException("already running");
        }
        try {
            running = EmbeddedPostgres.builder()
                    .setPgBinaryResolver((system, hardware) -> TestPostgres.binaryArchive(binaries, system, hardware))
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setPGStartupWait(Duration.ofSeconds(30))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // what was committed must survive an immediate shutdown
                    .setServerConfig("synchronous_commit", "on")
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fast shutdown ({@code pg_ctl stop -m fast}): every backend ends its client with FATAL 57P01. */
    void stopFast() {
        try {
            running.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            running = null;
        }
    }

    /**
     * Immediate shutdown (SIGQUIT to the postmaster), as in a crash: backends exit at once
     * without a FATAL message; the next start runs crash recovery.
     */
    void stopImmediately() {
        ProcessHandle postmaster = ProcessHandle.of(postmasterPid())
                .orElseThrow(() -> new IllegalStateException("no postmaster running"));
        ClientProcess.signal(postmaster.pid(), "QUIT");
        postmaster.onExit().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
        // releases the data directory lock; its pg_ctl stop finds nothing to stop and says so
        var zonky = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.zonky");
        Level before = zonky.getLevel();
        zonky.setLevel(Level.OFF);
        try {
            stopFast();
        } finally {
            zonky.setLevel(before);
        }
    }

    /** Kills one backend process with SIGKILL: the postmaster ends every other backend and recovers. */
    void killBackend(int pid) {
        ClientProcess.signal(pid, "KILL");
    }

    private long postmasterPid() {
        try {
            return Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A connection straight to this server as that user. */
    Connection connect(String user) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    @Override
    public void close() {
        if (running != null) {
            stopFast();
        }
        try (Stream<Path> files = Files.walk(dataDirectory)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
