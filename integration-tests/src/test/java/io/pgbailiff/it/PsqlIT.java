package io.pgbailiff.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real {@code psql} through pgbailiff. psql connects with the default sslmode (prefer), so
 * it first sends an SSLRequest, which pgbailiff answers with 'N'.
 */
class PsqlIT extends ProxyTestBase {
    private static Path psql;

    @BeforeAll
    static void findPsql() {
        psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH: skipping the psql tests");
    }

    /** psql through the proxy as postgres, with the given application name and extra arguments. */
    private static ClientProcess psql(String applicationName, String... args) {
        List<String> all = new ArrayList<>(List.of("-h", "127.0.0.1", "-p", Integer.toString(proxy.port()),
                "-U", "postgres", "-d", "postgres", "-X", "-v", "ON_ERROR_STOP=1"));
        all.addAll(List.of(args));
        return ClientProcess.start(psql, Map.of("PGAPPNAME", applicationName), all);
    }

    @Test
    void queryResultsArePrinted() {
        try (ClientProcess p = psql("psql-it-query", "-A", "-t", "-F", "|",
                "-c", "SELECT 6 * 7, 'héllo' || ' wörld', current_user, current_setting('application_name'),"
                        + " inet_server_port() = " + TestPostgres.get().port(),
                "-c", "SELECT count(*), sum(g) FROM generate_series(1, 100000) g")) {
            p.awaitSuccess(Duration.ofSeconds(30));
            assertEquals("42|héllo wörld|postgres|psql-it-query|t\n100000|5000050000\n", p.stdout(), p.describe());
        }
        proxy.awaitSessions(list -> list.stream().noneMatch(s -> "psql-it-query".equals(s.applicationName())),
                Duration.ofSeconds(5), "psql's session gone after it quit");
    }

    @Test
    void backslashCopyInAndOut() throws Exception {
        int rows = 5000;
        StringBuilder data = new StringBuilder();
        for (int i = 1; i <= rows; i++) {
            data.append(i).append('\t');
            if (i % 13 == 0) {
                data.append("\\N");
            } else if (i % 7 == 0) {
                data.append("tab\\there-").append(i);
            } else if (i % 11 == 0) {
                data.append("back\\\\slash-").append(i);
            } else {
                data.append("rôw-").append(i).append("-€");
            }
            data.append('\t').append((long) i * i).append('\n');
        }
        Path in = Files.createTempFile("pgbailiff-psql-copy-", ".in");
        Path out = Files.createTempFile("pgbailiff-psql-copy-", ".out");
        try (Connection c = TestPostgres.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS psql_copy_it");
            s.execute("CREATE TABLE psql_copy_it (id int PRIMARY KEY, label text, square bigint)");
            Files.writeString(in, data, StandardCharsets.UTF_8);

            try (ClientProcess p = psql("psql-it-copy-in", "-c", "\\copy psql_copy_it FROM '" + in + "'")) {
                p.awaitSuccess(Duration.ofSeconds(30));
                assertEquals("COPY " + rows + "\n", p.stdout(), p.describe());
            }
            ResultSet rs = s.executeQuery("SELECT count(*), count(label), sum(square),"
                    + " (SELECT label FROM psql_copy_it WHERE id = 7), (SELECT label FROM psql_copy_it WHERE id = 22),"
                    + " (SELECT label FROM psql_copy_it WHERE id = 1) FROM psql_copy_it");
            assertTrue(rs.next());
            assertEquals(rows, rs.getInt(1), "rows copied in, counted directly on the backend");
            assertEquals(rows - rows / 13, rs.getInt(2), "\\N became NULL");
            assertEquals((long) rows * (rows + 1) * (2L * rows + 1) / 6, rs.getLong(3));
            assertEquals("tab\there-7", rs.getString(4));
            assertEquals("back\\slash-22", rs.getString(5));
            assertEquals("rôw-1-€", rs.getString(6));

            try (ClientProcess p = psql("psql-it-copy-out",
                    "-c", "\\copy (SELECT * FROM psql_copy_it ORDER BY id) TO '" + out + "'")) {
                p.awaitSuccess(Duration.ofSeconds(30));
                assertEquals("COPY " + rows + "\n", p.stdout(), p.describe());
            }
            String copiedOut = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(data.length(), copiedOut.length());
            assertTrue(data.toString().equals(copiedOut), "\\copy out returns exactly what \\copy in loaded");
        } finally {
            try (Connection c = TestPostgres.get().superuser(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS psql_copy_it");
            }
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
        }
    }

    @Test
    void ctrlCCancelsTheRunningStatementWithin3Seconds() {
        try (ClientProcess p = psql("psql-it-cancel", "-c", "select pg_sleep(30)")) {
            proxy.awaitSessions(list -> list.stream().anyMatch(s -> "psql-it-cancel".equals(s.applicationName())
                    && "select pg_sleep(30)".equals(s.activeQuery())), Duration.ofSeconds(15),
                    "psql's pg_sleep running; psql: " + p.describe());
            BackendActivity.awaitActive("select pg_sleep(30)", Duration.ofSeconds(10));

            long signalled = System.nanoTime();
            p.signal("INT");
            boolean exited = p.waitFor(Duration.ofSeconds(3));
            long millis = Duration.ofNanos(System.nanoTime() - signalled).toMillis();
            assertTrue(exited, "psql still running 3 s after SIGINT: " + p.describe());
            assertTrue(millis < 3000, "psql took " + millis + " ms to exit");
            assertNotEquals(0, p.exitCode(), "the statement failed: " + p.describe());
            assertTrue(p.stderr().contains("canceling statement due to user request"), p.describe());
            assertEquals(0, BackendActivity.activeBackendsWithQuery("select pg_sleep(30)"),
                    "pg_sleep no longer runs on the backend");
        }
        proxy.awaitSessions(list -> list.stream().noneMatch(s -> "psql-it-cancel".equals(s.applicationName())),
                Duration.ofSeconds(5), "psql's session gone after it quit");
    }
}
