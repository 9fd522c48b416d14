package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.adminsql.SessionStatus;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A well-behaved session opened before a test disturbs the proxy: it has a transaction open with
 * a row written in a temporary table. {@link #assertUntouched} checks afterwards that it kept its
 * backend connection, its transaction and the row, then commits.
 */
final class Bystander implements AutoCloseable {
    private final TestProxy proxy;
    private final String applicationName;
    private final int value;
    private final Connection connection;
    private final Statement statement;
    private final int backendPid;

    private Bystander(TestProxy proxy, String applicationName, int value, Connection connection) throws SQLException {
        this.proxy = proxy;
        this.applicationName = applicationName;
        this.value = value;
        this.connection = connection;
        this.statement = connection.createStatement();
        statement.execute("BEGIN");
        statement.execute("CREATE TEMP TABLE kept (v int)");
        statement.execute("INSERT INTO kept VALUES (" + value + ")");
        this.backendPid = proxy.session(applicationName).backendPid();
    }

    static Bystander open(TestProxy proxy, String user, String applicationName, int value) throws SQLException {
        Connection c = proxy.connect(user, null, "ApplicationName", applicationName);
        try {
            return new Bystander(proxy, applicationName, value, c);
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** True for every session list in which the bystander is the only session left. */
    boolean isAloneIn(List<SessionSnapshot> sessions) {
        return sessions.stream().allMatch(s -> applicationName.equals(s.applicationName()));
    }

    void assertUntouched() throws SQLException {
        SessionSnapshot after = proxy.session(applicationName);
        assertEquals(backendPid, after.backendPid(), "the bystander kept its backend connection");
        assertEquals(SessionStatus.IDLE_IN_TRANSACTION, after.status(), "and its open transaction");
        try (ResultSet rs = statement.executeQuery("SELECT v FROM kept")) {
            assertTrue(rs.next());
            assertEquals(value, rs.getInt(1), "what the bystander wrote in its transaction is still there");
        }
        statement.execute("COMMIT");
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
