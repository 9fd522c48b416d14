package io.pgbailiff.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * What the backend PostgreSQL itself reports in {@code pg_stat_activity}, read on a direct
 * superuser connection that bypasses the proxy. The text searched for is passed as a parameter,
 * so the monitoring query never matches itself.
 */
final class BackendActivity {
    private BackendActivity() {
    }

    /** Backends (other than the caller's) whose current or last query contains the text. */
    static int backendsWithQuery(String text) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%' || ? || '%' AND pid <> pg_backend_pid()",
                text);
    }

    /** Backends whose query contains the text and is executing right now. */
    static int activeBackendsWithQuery(String text) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || ? || '%'"
                + " AND pid <> pg_backend_pid()", text);
    }

    /** Whether a backend process with that pid is still connected. */
    static boolean backendExists(int pid) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid) > 0;
    }

    /** Backends connected to that database. */
    static int backendsOnDatabase(String database) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", database);
    }

    /** Backends connected with that application name. */
    static int backendsWithApplication(String applicationName) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", applicationName);
    }

    /**
     * Waits until the backend is executing a statement containing the text: past the point where
     * a cancel could be lost because the backend was still reading the command.
     */
    static void awaitActive(String text, Duration timeout) {
        Waits.until(() -> activeBackendsWithQuery(text) == 1, timeout,
                () -> "a backend executing a statement containing '" + text + "'");
    }

    private static int count(String sql, Object parameter) {
        try (Connection c = TestPostgres.get().superuser(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
