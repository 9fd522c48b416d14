package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.proxy.Config;
import io.pgbailiff.proxy.ConfigLoader;
import io.pgbailiff.proxy.ProxyServer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;

/** A pgbailiff started in the test JVM in front of {@link TestPostgres}, on a free port. */
public final class TestProxy implements AutoCloseable {
    private final ProxyServer server;

    private TestProxy(ProxyServer server) {
        this.server = server;
    }

    public static TestProxy start(String... extraFlags) {
        TestPostgres pg = TestPostgres.get();
        List<String> args = new java.util.ArrayList<>(List.of("--listen", "127.0.0.1:0", "--backend", "127.0.0.1:" + pg.port(),
                "--http", "127.0.0.1:0"));
        args.addAll(List.of(extraFlags));
        return start(ConfigLoader.load(args, Map.of()));
    }

    public static TestProxy start(Config config) {
        try {
            return new TestProxy(ProxyServer.start(config));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The page {@code GET /metrics} serves now. */
    public String metrics() {
        var response = Http.get(server.httpAddress(), "/metrics");
        if (response.statusCode() != 200) {
            throw new AssertionError("GET /metrics: " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    public double metric(String name, String... labels) {
        return Http.metric(metrics(), name, labels);
    }

    public int port() {
        return server.address().getPort();
    }

    public ProxyServer server() {
        return server;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    /** A pgjdbc connection through the proxy; {@code props} are pgjdbc properties, as name, value pairs. */
    public Connection connect(String user, String password, String... props) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        for (int i = 0; i + 1 < props.length; i += 2) {
            p.setProperty(props[i], props[i + 1]);
        }
        return DriverManager.getConnection(jdbcUrl(p.getProperty("dbname", "postgres")), p);
    }

    public Connection connect(String user) throws SQLException {
        return connect(user, null);
    }

    public List<SessionSnapshot> sessions() {
        return server.sessions().snapshot();
    }

    public List<SessionSnapshot> sessions(Predicate<SessionSnapshot> filter) {
        return sessions().stream().filter(filter).toList();
    }

    /** The one session with this application name; fails if there is none or more than one. */
    public SessionSnapshot session(String applicationName) {
        List<SessionSnapshot> found = sessions(s -> applicationName.equals(s.applicationName()));
        if (found.size() != 1) {
            throw new AssertionError("expected one session named " + applicationName + ", found " + found);
        }
        return found.get(0);
    }

    /**
     * Waits until the session with this application name runs a statement containing the text and
     * the backend is executing it (past the point where a cancel could arrive before the command).
     */
    public SessionSnapshot awaitRunning(String applicationName, String text) {
        Duration timeout = Duration.ofSeconds(10);
        awaitSessions(l -> l.stream().anyMatch(s -> applicationName.equals(s.applicationName())
                && s.activeQuery() != null && s.activeQuery().contains(text)), timeout, applicationName + " running " + text);
        BackendActivity.awaitActive(text, timeout);
        return session(applicationName);
    }

    /** Waits until no session with this application name is left. */
    public void awaitGone(String applicationName) {
        awaitSessions(l -> l.stream().noneMatch(s -> applicationName.equals(s.applicationName())),
                Duration.ofSeconds(5), applicationName + " ended");
    }

    /** Waits until the registry satisfies the condition, failing after the timeout. */
    public void awaitSessions(Predicate<List<SessionSnapshot>> condition, Duration timeout, String description) {
        Waits.until(() -> condition.test(sessions()), timeout, () -> description + "; sessions now: " + sessions());
    }

    @Override
    public void close() {
        server.close();
    }
}
