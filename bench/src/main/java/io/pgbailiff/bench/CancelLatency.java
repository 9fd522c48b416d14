package io.pgbailiff.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Cancel latency: a victim runs {@code SELECT pg_sleep(60)}; once PostgreSQL shows it active, a
 * second connection sends the cancel and the clock runs from just before that statement is sent
 * until the victim's driver throws. Kinds:
 * <ul>
 *   <li>{@code cancel_query}: {@code CANCEL QUERY '<query_id>'} through pgbailiff (id from SHOW QUERIES)</li>
 *   <li>{@code cancel_session}: {@code CANCEL SESSION '<session_id>'} through pgbailiff; a new victim each try</li>
 *   <li>{@code md_interrupt}: {@code SELECT md_interrupt_server_connection('<client_connection_id>')} through pgbailiff</li>
 *   <li>{@code pg_cancel_backend}: {@code SELECT pg_cancel_backend(pid)} straight to PostgreSQL, the baseline</li>
 * </ul>
 * Prints one {@code cancel kind=... n=... p50_us=... p99_us=...} line per kind.
 */
public final class CancelLatency {
    private CancelLatency() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        String proxyUrl = a.get("proxy-url");
        String directUrl = a.get("direct-url");
        int tries = Integer.parseInt(a.getOrDefault("tries", "200"));
        List<String> kinds = List.of(a.getOrDefault("kinds", "cancel_query,cancel_session,md_interrupt,pg_cancel_backend")
                .split(","));
        ExecutorService victims = Executors.newSingleThreadExecutor();
        try (Connection watcher = DriverManager.getConnection(directUrl)) {
            for (String kind : kinds) {
                run(kind, kind.equals("pg_cancel_backend") ? directUrl : proxyUrl, watcher, tries, victims);
            }
        } finally {
            victims.shutdownNow();
        }
    }

    private static final class Victim implements AutoCloseable {
        final Connection connection;
        final int backendPid;
        final String connectionId;

        Victim(String url, boolean throughProxy) throws SQLException {
            connection = DriverManager.getConnection(url);
            try (Statement s = connection.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                backendPid = rs.getInt(1);
            }
            String id = null;
            if (throughProxy) {
                try (Statement s = connection.createStatement();
                     ResultSet rs = s.executeQuery("SELECT md_current_client_connection_id()")) {
                    rs.next();
                    id = rs.getString(1);
                }
            }
            connectionId = id;
        }

        @Override
        public void close() throws SQLException {
            connection.close();
        }
    }

    /** When the victim's driver threw, and the SQLSTATE it reported. */
    private record Interrupted(long nanoTime, String sqlState) {
    }

    private static void run(String kind, String url, Connection watcher, int tries, ExecutorService victims)
            throws Exception {
        long[] victimMicros = new long[tries];
        long[] callerMicros = new long[tries];
        Map<String, Integer> outcomes = new TreeMap<>();
        boolean throughProxy = !kind.equals("pg_cancel_backend");
        Victim victim = null;
        try (Connection admin = DriverManager.getConnection(url);
             Statement adminStatement = admin.createStatement();
             PreparedStatement active = watcher.prepareStatement(
                     "SELECT 1 FROM pg_stat_activity WHERE pid = ? AND state = 'active' AND wait_event = 'PgSleep'")) {
            for (int i = 0; i < tries; i++) {
                if (victim == null) {
                    victim = new Victim(url, throughProxy);
                }
                Connection v = victim.connection;
                Future<Interrupted> result = victims.submit(() -> {
                    try (Statement s = v.createStatement()) {
                        s.execute("SELECT pg_sleep(60)");
                        return null;
                    } catch (SQLException e) {
                        return new Interrupted(System.nanoTime(), String.valueOf(e.getSQLState()));
                    }
                });
                waitActive(active, victim.backendPid);
                String statement = switch (kind) {
                    case "cancel_query" -> "CANCEL QUERY '" + queryId(adminStatement, victim.connectionId) + "'";
                    case "cancel_session" -> "CANCEL SESSION '" + victim.connectionId + "'";
                    case "md_interrupt" -> "SELECT md_interrupt_server_connection('" + victim.connectionId + "')";
                    case "pg_cancel_backend" -> "SELECT pg_cancel_backend(" + victim.backendPid + ")";
                    default -> throw new IllegalArgumentException("unknown kind " + kind);
                };
                long t0 = System.nanoTime();
                adminStatement.execute(statement);
                long t1 = System.nanoTime();
                Interrupted r = result.get(30, TimeUnit.SECONDS);
                if (r == null) {
                    throw new IllegalStateException(kind + ": the victim's pg_sleep(60) was not interrupted");
                }
                victimMicros[i] = (r.nanoTime() - t0) / 1000;
                callerMicros[i] = (t1 - t0) / 1000;
                outcomes.merge(r.sqlState(), 1, Integer::sum);
                if (kind.equals("cancel_session")) {
                    victim.close();
                    victim = null;
                }
            }
        } finally {
            if (victim != null) {
                victim.close();
            }
        }
        Arrays.sort(victimMicros);
        Arrays.sort(callerMicros);
        System.out.printf("cancel kind=%s n=%d p50_us=%d p99_us=%d max_us=%d mean_us=%.0f caller_p50_us=%d sqlstates=%s%n",
                kind, tries, Stats.percentile(victimMicros, 50), Stats.percentile(victimMicros, 99),
                victimMicros[tries - 1], Arrays.stream(victimMicros).average().orElse(0),
                Stats.percentile(callerMicros, 50), outcomes.toString().replace(" ", ""));
    }

    /** Polls PostgreSQL (not the proxy) until the victim's backend is inside pg_sleep. */
    private static void waitActive(PreparedStatement active, int pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        active.setInt(1, pid);
        while (System.nanoTime() < deadline) {
            try (ResultSet rs = active.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
            Thread.sleep(1);
        }
        throw new IllegalStateException("backend " + pid + " did not start pg_sleep within 10 s");
    }

    private static String queryId(Statement admin, String connectionId) throws Exception {
        String sessionId = connectionId.replace("-", "").toLowerCase();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (ResultSet rs = admin.executeQuery("SHOW QUERIES")) {
                while (rs.next()) {
                    if (sessionId.equals(rs.getString("session_id"))
                            && rs.getString("query").contains("pg_sleep(60)")) {
                        return rs.getString("query_id");
                    }
                }
            }
            Thread.sleep(1);
        }
        throw new IllegalStateException("SHOW QUERIES did not list session " + sessionId + "'s pg_sleep");
    }
}
