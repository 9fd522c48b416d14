package io.pgbailiff.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The seed documents' statements, verbatim, typed into psql. */
class PsqlSessionControlIT extends ProxyTestBase {
    private static Path psql;

    @BeforeAll
    static void findPsql() {
        psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH: skipping the psql tests");
    }

    private static String psql(String sql) {
        List<String> args = new ArrayList<>(List.of("-h", "127.0.0.1", "-p", Integer.toString(proxy.port()),
                "-U", "postgres", "-d", "postgres", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql));
        try (ClientProcess p = ClientProcess.start(psql, Map.of("PGAPPNAME", "psql-seeds"), args)) {
            p.awaitSuccess(Duration.ofSeconds(30));
            return p.stdout();
        }
    }

    @Test
    void cockroachDbExamples() throws Exception {
        try (Connection root = proxy.connect("root", null, "ApplicationName", "psql-root");
             Connection max1 = proxy.connect("maxroach", null, "ApplicationName", "psql-max1");
             Connection max2 = proxy.connect("maxroach", null, "ApplicationName", "psql-max2");
             Connection max3 = proxy.connect("maxroach", null, "ApplicationName", "psql-max3")) {
            String shown = psql("SHOW SESSIONS;");
            assertTrue(shown.contains("node_id") && shown.contains("session_id") && shown.contains("user_name"), shown);
            assertTrue(shown.contains(proxy.session("psql-max1").id().hex()), shown);

            String id = proxy.session("psql-max1").id().hex();
            assertEquals("CANCEL SESSIONS 1\n", psql("CANCEL SESSION '" + id + "';"));
            proxy.awaitGone("psql-max1");

            assertEquals("CANCEL SESSIONS 1\n", psql("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS]\n"
                    + "       WHERE username = 'root');"));
            proxy.awaitGone("psql-root");

            assertEquals("CANCEL SESSIONS 2\n", psql("CANCEL SESSIONS (WITH x AS (SHOW SESSIONS) SELECT session_id FROM x\n"
                    + "      WHERE user_name = 'maxroach');"));
            proxy.awaitGone("psql-max2");
            proxy.awaitGone("psql-max3");
        }
    }

    @Test
    void motherDuckExamples() throws Exception {
        String unknown = psql("SELECT md_interrupt_server_connection('2601e799-51b3-47a7-a64f-18688d148887');");
        assertTrue(unknown.contains(" f\n"), "an unknown connection is false: " + unknown);

        try (Connection victim = proxy.connect("bob", null, "ApplicationName", "psql-md-victim");
             Statement v = victim.createStatement()) {
            String sql = "CREATE TABLE psql_md_t AS SELECT pg_sleep(30)::text AS slept";
            CompletableFuture<SQLException> result = Async.execute(v, sql);
            proxy.awaitRunning("psql-md-victim", sql);
            String out = psql("-- Interrupt all connections where a `CREATE TABLE` query is running\n"
                    + "SELECT md_interrupt_server_connection(client_connection_id)\n"
                    + "FROM md_active_server_connections()\n"
                    + "WHERE client_query ILIKE 'CREATE TABLE%';");
            assertTrue(out.contains(" t\n") && out.contains("(1 row)"), out);
            SQLException e = result.get(3, TimeUnit.SECONDS);
            assertEquals("57014", e == null ? null : e.getSQLState());
            assertTrue(v.executeQuery("SELECT 1").next(), "the connection is usable afterwards");

            String listed = psql("FROM md_active_server_connections()");
            assertTrue(listed.contains("client_connection_id"), listed);
        }
    }
}
