package io.pgbailiff.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real {@code pgbench} through pgbailiff: initialisation (client-side COPY of 100,000 rows)
 * and select-only runs in each query mode, with several concurrent connections.
 */
class PgbenchIT {
    private static final String DATABASE = "pgbench_it";
    private static final String APP = "pgbench-it";
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)(?:/(\\d+))?");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
    private static final Pattern MODE = Pattern.compile("query mode: (\\w+)");

    private static Path pgbench;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        pgbench = ClientProcess.onPath("pgbench").orElse(null);
        assumeTrue(pgbench != null, "pgbench is not on the PATH: skipping the pgbench tests");
        TestPostgres.recreateDatabase(DATABASE);
        proxy = TestProxy.start();
        try (ClientProcess init = pgbench("-i", "-s", "1")) {
            init.awaitSuccess(Duration.ofSeconds(60));
            assertTrue(init.stderr().contains("done in"), init.describe());
        }
        assertNoSessionsLeft();
    }

    @AfterAll
    static void stop() throws SQLException {
        if (proxy != null) {
            proxy.close();
        }
        if (pgbench != null) {
            TestPostgres.dropDatabase(DATABASE);
        }
    }

    private static ClientProcess pgbench(String... args) {
        List<String> all = new ArrayList<>(List.of("-h", "127.0.0.1", "-p", Integer.toString(proxy.port()),
                "-U", "postgres"));
        all.addAll(List.of(args));
        all.add(DATABASE);
        return ClientProcess.start(pgbench, Map.of("PGAPPNAME", APP), all);
    }

    @Test
    void initialisationLoadedTheTablesThroughTheProxy() throws SQLException {
        try (Connection c = TestPostgres.get().directConnection("postgres", DATABASE); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pgbench_accounts), (SELECT count(*) FROM pgbench_branches),"
                    + " (SELECT count(*) FROM pgbench_tellers), (SELECT sum(aid) FROM pgbench_accounts)");
            assertTrue(rs.next());
            assertEquals(100_000, rs.getLong(1));
            assertEquals(1, rs.getLong(2));
            assertEquals(10, rs.getLong(3));
            assertEquals(100_000L * 100_001 / 2, rs.getLong(4));
        }
    }

    @Test
    void selectOnlyPreparedWithFourClientsForThreeSeconds() {
        String out;
        try (ClientProcess run = pgbench("-S", "-M", "prepared", "-c", "4", "-j", "2", "-T", "3")) {
            out = run.awaitSuccess(Duration.ofSeconds(30)).stdout();
            assertEquals("prepared", group(MODE, out, 1), run.describe());
            assertTrue(out.contains("number of failed transactions: 0"), run.describe());
            assertEquals(0, Long.parseLong(group(FAILED, out, 1)), run.describe());
            long processed = Long.parseLong(group(PROCESSED, out, 1));
            assertTrue(processed > 100, "only " + processed + " transactions: " + run.describe());
        }
        assertNoSessionsLeft();
    }

    @ParameterizedTest(name = "-M {0}")
    @ValueSource(strings = {"extended", "simple"})
    void shortSelectOnlyRun(String mode) {
        try (ClientProcess run = pgbench("-S", "-M", mode, "-c", "2", "-j", "1", "-t", "100")) {
            String out = run.awaitSuccess(Duration.ofSeconds(30)).stdout();
            assertEquals(mode, group(MODE, out, 1), run.describe());
            assertTrue(out.contains("number of failed transactions: 0"), run.describe());
            assertEquals(0, Long.parseLong(group(FAILED, out, 1)), run.describe());
            assertEquals("200", group(PROCESSED, out, 1), run.describe());
            assertEquals("200", group(PROCESSED, out, 2), run.describe());
        }
        assertNoSessionsLeft();
    }

    private static String group(Pattern pattern, String text, int group) {
        Matcher m = pattern.matcher(text);
        assertTrue(m.find(), "no '" + pattern + "' in pgbench's output:\n" + text);
        return m.group(group);
    }

    /** Every pgbench connection closed: none in the proxy's registry, none on the backend. */
    private static void assertNoSessionsLeft() {
        proxy.awaitSessions(list -> list.stream().noneMatch(s -> DATABASE.equals(s.databaseName()) || APP.equals(s.applicationName())),
                Duration.ofSeconds(5), "no pgbench session left in the registry");
        Waits.until(() -> BackendActivity.backendsOnDatabase(DATABASE) == 0, Duration.ofSeconds(5),
                () -> "no backend left on " + DATABASE);
    }
}
