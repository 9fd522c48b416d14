package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Users try to reach sessions that are not theirs to stop, in every form the dialect has: literal
 * ids as hex and UUID in either case, IF EXISTS, subqueries over {@code [SHOW SESSIONS]},
 * {@code [SHOW QUERIES]}, CTEs and {@code md_active_server_connections()},
 * {@code md_interrupt_server_connection}, {@code $n} parameters (text and binary), comments; in
 * the simple protocol, the extended protocol and psql. The victims are another ordinary user's
 * running statement and open transaction and two superusers' running statements.
 *
 * <p>Nothing is ever cancelled or interrupted, no statement reports a cancel, no other user's
 * query text shows in any answer or error, and every attempt leaves an audit line naming the
 * attacker.
 */
class PrivilegeAttackIT {
    private static final Set<String> REFUSALS = Set.of("42501", "0A000", "42601", "22P02");
    private static final Pattern A_CANCEL = Pattern.compile("CANCEL (SESSIONS|QUERIES) [1-9]");

    private static TestProxy proxy;
    private final List<Victim> victims = new ArrayList<>();

    /** A session that must survive: who, which application name, its secret marker, running or in a transaction. */
    private record Victim(String user, String app, String secret, boolean running, Connection connection,
                          CompletableFuture<SQLException> statement) {
        SessionSnapshot session() {
            return proxy.session(app);
        }
    }

    @BeforeAll
    static void startProxy() {
        proxy = TestProxy.start("--admin-roles", "ops");
    }

    @AfterAll
    static void stopProxy() {
        proxy.close();
    }

    /**
     * Starts the victims: two superusers' running statements and, unless the attacker may cancel
     * ordinary users' sessions anyway, an ordinary user's running statement and open transaction.
     */
    private void startVictims(boolean ordinaryUserToo) throws Exception {
        if (ordinaryUserToo) {
            victims.add(running("bob", "victim-bob-running"));
            victims.add(inTransaction("bob", "victim-bob-transaction"));
        }
        victims.add(running("boss", "victim-boss-running"));
        victims.add(running("postgres", "victim-postgres-running"));
        for (Victim v : victims) {
            if (v.running()) {
                proxy.awaitRunning(v.app(), v.secret());
            }
        }
    }

    @AfterEach
    void endVictims() throws Exception {
        for (Victim v : victims) {
            v.connection().close();
        }
        victims.clear();
        proxy.awaitSessions(l -> l.stream().noneMatch(s -> s.applicationName().startsWith("victim-")), Duration.ofSeconds(10),
                "victims gone");
    }

    private static Victim running(String user, String app) throws SQLException {
        Connection c = proxy.connect(user, null, "ApplicationName", app);
        String secret = "secret-" + app;
        return new Victim(user, app, secret, true, c, Async.execute(c.createStatement(), "SELECT pg_sleep(300) /* " + secret + " */"));
    }

    private static Victim inTransaction(String user, String app) throws SQLException {
        Connection c = proxy.connect(user, null, "ApplicationName", app);
        String secret = "secret-" + app;
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE kept AS SELECT '" + secret + "' AS secret");
        }
        return new Victim(user, app, secret, false, c, null);
    }

    // ---- the forms ----

    /** Statements naming a victim, with {@code %hex %HEX %uuid %UUID %user} filled in. */
    private static final List<String> SESSION_FORMS = List.of(
            "CANCEL SESSION '%hex'",
            "CANCEL SESSION '%HEX'",
            "CANCEL SESSION '%uuid'",
            "cancel session '%UUID'",
            "Cancel Session If Exists '%hex'",
            "/* quietly */ CANCEL SESSION '%uuid';",
            "CANCEL SESSION '%hex' -- trailing comment",
            "CANCEL SESSION (SELECT session_id FROM [SHOW SESSIONS] WHERE session_id = '%hex')",
            "CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = '%user')",
            "CANCEL SESSIONS SELECT session_id FROM [SHOW ALL CLUSTER SESSIONS] WHERE application_name = '%app'",
            "CANCEL SESSIONS IF EXISTS (WITH x AS (SHOW SESSIONS) SELECT session_id FROM x WHERE user_name = '%user')",
            "CANCEL SESSIONS (SELECT session_id FROM md_active_server_connections() WHERE user_name = '%user')",
            "SELECT md_interrupt_server_connection('%uuid')",
            "SELECT md_interrupt_server_connection('%UUID')",
            "select md_interrupt_server_connection('%hex')",
            "SELECT md_interrupt_server_connection('%uuid'::uuid)",
            "SELECT md_interrupt_server_connection(client_connection_id) FROM md_active_server_connections() WHERE user_name = '%user'",
            "SELECT md_interrupt_server_connection(session_id) FROM [SHOW SESSIONS] WHERE application_name = '%app'");

    /** Statements naming a victim's running statement, with {@code %qid %QID %user} filled in. */
    private static final List<String> QUERY_FORMS = List.of(
            "CANCEL QUERY '%qid'",
            "cancel query if exists '%QID'",
            "CANCEL QUERY (SELECT query_id FROM [SHOW QUERIES] WHERE query_id = '%qid')",
            "CANCEL QUERIES (SELECT query_id FROM [SHOW QUERIES] WHERE user_name = '%user')",
            "CANCEL QUERIES IF EXISTS (SELECT query_id FROM [SHOW CLUSTER QUERIES] WHERE query LIKE '%secret%')");

    /** Statements aimed at nobody in particular. */
    private static final List<String> BROAD_FORMS = List.of(
            "CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name <> current_user)",
            "CANCEL QUERIES (SELECT query_id FROM [SHOW ALL QUERIES])",
            "SELECT md_interrupt_server_connection(client_connection_id) FROM md_active_server_connections()");

    /** True for a form that names an existing session directly: it must be refused with 42501. */
    private static boolean literal(String form) {
        return !form.contains("SELECT") && !form.contains("select") && !form.contains("md_interrupt");
    }

    private List<String[]> attacks() {
        List<String[]> out = new ArrayList<>();
        for (Victim v : victims) {
            SessionSnapshot s = v.session();
            Function<String, String> fill = f -> f.replace("%hex", s.id().hex()).replace("%HEX", s.id().hex().toUpperCase(Locale.ROOT))
                    .replace("%uuid", s.id().uuid()).replace("%UUID", s.id().uuid().toUpperCase(Locale.ROOT))
                    .replace("%user", v.user()).replace("%app", v.app()).replace("%secret%", "%" + v.secret() + "%");
            for (String f : SESSION_FORMS) {
                out.add(new String[] {f, fill.apply(f)});
            }
            if (v.running()) {
                String qid = queryId(v.app());
                for (String f : QUERY_FORMS) {
                    out.add(new String[] {f, fill.apply(f).replace("%qid", qid).replace("%QID", qid.toUpperCase(Locale.ROOT))});
                }
            }
        }
        for (String f : BROAD_FORMS) {
            out.add(new String[] {f, f});
        }
        return out;
    }

    private static String queryId(String app) {
        try (Connection c = proxy.connect("postgres", null, "preferQueryMode", "simple"); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT query_id FROM [SHOW QUERIES] WHERE application_name = '" + app + "'");
            assertTrue(rs.next(), "a running statement of " + app);
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- the attacks ----

    /** An attempt on a session the caller may not see is audited with that session's owner, for whoever reads the log. */
    @Test
    void anInterruptOfASessionTheCallerMayNotSeeIsAuditedWithItsOwner() throws Exception {
        startVictims(false);
        SessionSnapshot boss = victims.get(0).session();
        int audited = AuditRecorder.LINES.size();
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "attacker-audit"); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT md_interrupt_server_connection('" + boss.id().uuid() + "')");
            assertTrue(rs.next());
            assertFalse(rs.getBoolean(1), "nothing interrupted");
        }
        Waits.until(() -> AuditRecorder.LINES.subList(audited, AuditRecorder.LINES.size()).stream()
                        .anyMatch(l -> l.contains("interrupt: by user alice") && l.contains(boss.id().uuid())
                                && l.contains("a session of user boss the caller may not see")),
                Duration.ofSeconds(5), () -> "an audit line naming boss as the owner; new lines: "
                        + AuditRecorder.LINES.subList(audited, AuditRecorder.LINES.size()));
        assertVictimsUntouched();
    }

    @Test
    void anOrdinaryUserReachesNobodyInTheSimpleProtocol() throws Exception {
        startVictims(true);
        attackWithRawSimpleQueries("alice", "attacker-simple");
    }

    /** pg_signal_backend members may cancel ordinary users' sessions (that is the role), never a superuser's. */
    @Test
    void aPgSignalBackendMemberReachesNoSuperuserInTheSimpleProtocol() throws Exception {
        startVictims(false);
        attackWithRawSimpleQueries("signaller", "attacker-signaller");
    }

    /** Members of an admin role see every session and may cancel all but a superuser's. */
    @Test
    void anAdminRoleMemberReachesNoSuperuserInTheSimpleProtocol() throws Exception {
        startVictims(false);
        attackWithRawSimpleQueries("opsuser", "attacker-ops");
    }

    /**
     * pgbailiff reads the caller's privileges in the caller's own session, where a temporary view
     * is found before the catalog's relation of the same name: one claiming everybody is a
     * superuser must change nothing.
     */
    @Test
    void aTemporaryViewPosingAsTheCatalogGrantsNothing() throws Exception {
        startVictims(true);
        attackWithRawSimpleQueries("alice", "attacker-catalog",
                "CREATE TEMP VIEW pg_roles AS SELECT oid, rolname, true AS rolsuper FROM pg_catalog.pg_roles",
                "CREATE TEMP VIEW pg_auth_members AS SELECT * FROM pg_catalog.pg_auth_members");
    }

    /**
     * PostgreSQL protects a backend by the role it logged in as: a superuser who has run SET ROLE
     * to an ordinary role is still out of reach of pg_signal_backend and of the admin roles.
     */
    @Test
    void aSuperusersSessionStaysOutOfReachAfterSetRole() throws Exception {
        Connection c = proxy.connect("postgres", null, "ApplicationName", "victim-postgres-as-bob");
        try (Statement s = c.createStatement()) {
            s.execute("SET ROLE bob");
        }
        String secret = "secret-victim-postgres-as-bob";
        victims.add(new Victim("postgres", "victim-postgres-as-bob", secret, true, c,
                Async.execute(c.createStatement(), "SELECT pg_sleep(300) /* " + secret + " */")));
        proxy.awaitRunning("victim-postgres-as-bob", secret);
        attackWithRawSimpleQueries("signaller", "attacker-signaller");
        attackWithRawSimpleQueries("opsuser", "attacker-ops");
    }

    private void attackWithRawSimpleQueries(String attacker, String app, String... setUp) throws Exception {
        List<String> outcomes = new ArrayList<>();
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.logIn(Map.of("user", attacker, "database", "postgres", "application_name", app));
            for (String statement : setUp) {
                Answer a = Answer.of(raw, statement);
                assertEquals(null, a.error, statement);
            }
            for (String[] attack : attacks()) {
                int audited = AuditRecorder.LINES.size();
                Answer a = Answer.of(raw, attack[1]);
                outcomes.add(a.toString());
                assertNoCancel(attack[1], a.tags, a.values);
                if (a.error != null) {
                    assertTrue(REFUSALS.contains(a.error.get('C')), attack[1] + ": refused, not " + a.error);
                }
                if (literal(attack[0])) {
                    assertEquals("42501", a.error == null ? null : a.error.get('C'), attack[1] + ": " + a);
                }
                assertNoSecret(attack[1], a.toString());
                assertAudited(attack[1], attacker, audited);
            }
        }
        System.out.println("PrivilegeAttackIT: " + attacker + " (simple protocol) made " + outcomes.size() + " attempts: "
                + summarise(outcomes));
        assertVictimsUntouched();
    }

    @Test
    void anOrdinaryUserReachesNobodyInTheExtendedProtocolWithParameters() throws Exception {
        startVictims(true);
        int attempts = 0;
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        try (Connection c = proxy.connect("alice", null, "ApplicationName", "attacker-extended", "prepareThreshold", "1")) {
            for (String[] attack : attacks()) {
                int audited = AuditRecorder.LINES.size();
                String outcome = extended(c, attack[1], List.of());
                outcomes.merge(outcome, 1, Integer::sum);
                attempts++;
                if (literal(attack[0])) {
                    assertEquals("42501", outcome, attack[1]);
                }
                assertAudited(attack[1], "alice", audited);
            }
            for (Victim v : victims) {
                SessionSnapshot s = v.session();
                List<Object[]> parameterised = new ArrayList<>(List.of(
                        new Object[] {"CANCEL SESSION ?", s.id().hex()},
                        new Object[] {"CANCEL SESSION ?", s.id().uuid().toUpperCase(Locale.ROOT)},
                        new Object[] {"CANCEL SESSION IF EXISTS ?", s.id().uuid()},
                        new Object[] {"CANCEL SESSION ?", UUID.fromString(s.id().uuid())},
                        new Object[] {"SELECT md_interrupt_server_connection(?)", s.id().uuid()},
                        new Object[] {"SELECT md_interrupt_server_connection(?)", UUID.fromString(s.id().uuid())},
                        new Object[] {"SELECT md_interrupt_server_connection(?::uuid)", s.id().uuid()},
                        new Object[] {"SELECT md_interrupt_server_connection(?)", s.id().hex().toUpperCase(Locale.ROOT)},
                        new Object[] {"CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = ?)", v.user()},
                        new Object[] {"SELECT md_interrupt_server_connection(client_connection_id) FROM md_active_server_connections()"
                                + " WHERE user_name = ?", v.user()}));
                if (v.running()) {
                    String qid = queryId(v.app());
                    parameterised.add(new Object[] {"CANCEL QUERY ?", qid});
                    parameterised.add(new Object[] {"CANCEL QUERY IF EXISTS ?", qid.toUpperCase(Locale.ROOT)});
                }
                for (Object[] p : parameterised) {
                    int audited = AuditRecorder.LINES.size();
                    String sql = (String) p[0];
                    String outcome = extended(c, sql, List.of(p[1]));
                    outcomes.merge(outcome, 1, Integer::sum);
                    attempts++;
                    if (sql.startsWith("CANCEL SESSION ?") || sql.startsWith("CANCEL QUERY ?")) {
                        assertEquals("42501", outcome, sql + " with " + p[1]);
                    }
                    assertAudited(sql + " with " + p[1], "alice", audited);
                }
            }
        }
        System.out.println("PrivilegeAttackIT: alice (extended protocol) made " + attempts + " attempts: " + outcomes);
        assertVictimsUntouched();
    }

    /** Runs one statement prepared, returns the SQLSTATE of its refusal or "ok"; fails on any sign of a cancel. */
    private static String extended(Connection c, String sql, List<Object> parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
                ps.setObject(i + 1, parameters.get(i));
            }
            if (ps.execute()) {
                try (ResultSet rs = ps.getResultSet()) {
                    while (rs.next()) {
                        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                            Object v = rs.getObject(i);
                            assertNotEquals(Boolean.TRUE, v, sql + ": nothing may be interrupted");
                            assertNoSecret(sql, String.valueOf(v));
                        }
                    }
                }
            } else {
                assertEquals(0, Math.max(0, ps.getUpdateCount()), sql + ": nothing may be cancelled");
            }
            return "ok";
        } catch (SQLException e) {
            assertTrue(REFUSALS.contains(e.getSQLState()), sql + ": refused, not " + e.getSQLState() + " " + e.getMessage());
            assertNoSecret(sql, e.getMessage());
            return e.getSQLState();
        }
    }

    @Test
    void anOrdinaryUserReachesNobodyThroughPsql() throws Exception {
        Path psql = ClientProcess.onPath("psql").orElse(null);
        assumeTrue(psql != null, "psql is not on the PATH");
        startVictims(true);
        List<String[]> attacks = attacks();
        StringBuilder script = new StringBuilder();
        for (String[] a : attacks) {
            script.append(a[1].endsWith(";") ? a[1] : a[1].contains("--") ? a[1] + "\n;" : a[1] + ";").append('\n');
        }
        Path file = Files.createTempFile("pgbailiff-attack", ".sql");
        Files.writeString(file, script);
        int audited = AuditRecorder.LINES.size();
        try (ClientProcess p = ClientProcess.start(psql, Map.of("PGAPPNAME", "attacker-psql"), List.of(
                "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "-U", "alice", "-d", "postgres",
                "-X", "-At", "-v", "ON_ERROR_STOP=0", "-v", "VERBOSITY=verbose", "-f", file.toString()))) {
            p.awaitExit(Duration.ofSeconds(60));
            String out = p.stdout();
            String err = p.stderr();
            System.out.println("PrivilegeAttackIT: psql ran " + attacks.size() + " attempts: "
                    + err.lines().filter(l -> l.contains("ERROR:")).count() + " refused, output "
                    + out.lines().distinct().toList());
            assertFalse(A_CANCEL.matcher(out).find(), "psql reports no cancel: " + out);
            assertFalse(out.lines().anyMatch("t"::equals), "no interrupt was sent: " + out);
            assertNoSecret("psql output", out + err);
            for (String line : err.lines().filter(l -> l.contains("ERROR:")).toList()) {
                assertTrue(REFUSALS.stream().anyMatch(code -> line.contains("ERROR:  " + code)), line);
            }
            long literals = attacks.stream().filter(a -> literal(a[0])).count();
            assertTrue(err.lines().filter(l -> l.contains("ERROR:  42501")).count() >= literals, err);
        } finally {
            Files.deleteIfExists(file);
        }
        long lines = AuditRecorder.LINES.subList(audited, AuditRecorder.LINES.size()).stream()
                .filter(l -> l.contains("user alice")).count();
        assertTrue(lines >= attacks.size(), "one audit line at least per attempt: " + lines + " for " + attacks.size());
        assertVictimsUntouched();
    }

    /**
     * No listing shows another user's query text to an ordinary user, and a pg_signal_backend
     * member, who sees the rows of sessions it may cancel, sees their text masked; filtering on
     * the text does not reveal it either.
     */
    @Test
    void otherUsersQueryTextNeverShows() throws Exception {
        startVictims(true);
        List<String> reads = List.of(
                "SHOW SESSIONS", "SHOW ALL CLUSTER SESSIONS", "SHOW QUERIES", "SHOW ALL STATEMENTS",
                "SELECT * FROM [SHOW SESSIONS]", "SELECT * FROM [SHOW QUERIES]", "SELECT * FROM md_active_server_connections()",
                "FROM md_active_server_connections()",
                "WITH x AS (SHOW SESSIONS) SELECT active_queries, last_active_query FROM x",
                "SELECT count(*) FROM [SHOW SESSIONS] WHERE user_name <> current_user AND active_queries LIKE '%secret%'",
                "SELECT count(*) FROM [SHOW SESSIONS] WHERE user_name <> current_user AND last_active_query ILIKE '%SECRET%'",
                "SELECT count(*) FROM [SHOW QUERIES] WHERE user_name <> current_user AND query LIKE '%secret%'",
                "SELECT count(*) FROM md_active_server_connections() WHERE user_name <> current_user AND client_query LIKE '%secret%'",
                "SELECT session_id FROM [SHOW SESSIONS] ORDER BY active_queries",
                "CANCEL SESSION (SELECT active_queries FROM [SHOW SESSIONS] WHERE user_name = 'bob' LIMIT 1)",
                "CANCEL QUERY (SELECT query FROM [SHOW QUERIES] WHERE user_name = 'bob' LIMIT 1)");
        for (String user : List.of("alice", "signaller")) {
            try (RawPgClient raw = new RawPgClient(proxy.port())) {
                raw.logIn(Map.of("user", user, "database", "postgres"));
                for (String sql : reads) {
                    Answer a = Answer.of(raw, sql);
                    assertNoSecret(user + ": " + sql, a.toString());
                    if (sql.contains("count(*)")) {
                        assertEquals(List.of("0"), a.values, user + ": " + sql);
                    }
                }
                Answer masked = Answer.of(raw, "SELECT count(*) FROM [SHOW SESSIONS] WHERE active_queries = '<insufficient privilege>'");
                assertEquals(List.of(user.equals("signaller") ? "1" : "0"), masked.values,
                        user + " sees bob's running session with its text masked only if it may cancel it");
            }
        }
        assertVictimsUntouched();
    }

    // ---- checks ----

    private void assertVictimsUntouched() throws Exception {
        for (Victim v : victims) {
            SessionSnapshot s = v.session();
            if (v.running()) {
                assertFalse(v.statement().isDone(), v.app() + ": its statement still runs: " + (v.statement().isDone() ? v.statement().get() : ""));
                assertEquals(SessionStatus.ACTIVE, s.status(), v.app());
                assertEquals(1, BackendActivity.activeBackendsWithQuery(v.secret()), v.app() + ": the backend still executes it");
                assertFalse(s.cancelling(), v.app() + ": no cancel in flight");
            } else {
                assertEquals(SessionStatus.IDLE_IN_TRANSACTION, s.status(), v.app());
                try (Statement st = v.connection().createStatement(); ResultSet rs = st.executeQuery("SELECT secret FROM kept")) {
                    assertTrue(rs.next(), v.app() + ": its transaction was not interrupted");
                    assertEquals(v.secret(), rs.getString(1));
                }
            }
        }
    }

    private static void assertNoCancel(String sql, List<String> tags, List<String> values) {
        for (String tag : tags) {
            assertFalse(A_CANCEL.matcher(tag).find(), sql + ": nothing may be cancelled, got " + tag);
        }
        assertFalse(values.contains("t"), sql + ": nothing may be interrupted, got " + values);
    }

    private static void assertNoSecret(String what, String text) {
        assertFalse(text != null && text.contains("secret-victim"), what + " shows another user's query text: " + text);
    }

    private static void assertAudited(String sql, String attacker, int linesBefore) {
        Waits.until(() -> AuditRecorder.LINES.subList(linesBefore, AuditRecorder.LINES.size()).stream()
                        .anyMatch(l -> l.contains("user " + attacker)), Duration.ofSeconds(5),
                () -> "an audit line for " + attacker + "'s attempt " + sql + "; new lines: "
                        + AuditRecorder.LINES.subList(linesBefore, AuditRecorder.LINES.size()));
    }

    private static Map<String, Long> summarise(java.util.Collection<String> outcomes) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (String o : outcomes) {
            String key = o.startsWith("error ") ? o.substring(0, Math.min(o.length(), 11)) : o.replaceAll("'[^']*'", "'…'");
            counts.merge(key, 1L, Long::sum);
        }
        return counts;
    }

    /** What a simple Query got back: command tags, the text of every value, the error if any. */
    private record Answer(List<String> tags, List<String> values, Map<Character, String> error) {
        static Answer of(RawPgClient raw, String sql) throws IOException {
            raw.send(RawPgClient.query(sql));
            List<String> tags = new ArrayList<>();
            List<String> values = new ArrayList<>();
            Map<Character, String> error = null;
            while (true) {
                RawPgClient.Message m = raw.read();
                switch (m.type()) {
                    case 'C' -> tags.add(new String(m.body(), 0, m.body().length - 1, StandardCharsets.UTF_8));
                    case 'D' -> {
                        ByteBuffer b = m.buffer();
                        int n = b.getShort();
                        for (int i = 0; i < n; i++) {
                            int len = b.getInt();
                            if (len < 0) {
                                values.add(null);
                            } else {
                                byte[] v = new byte[len];
                                b.get(v);
                                values.add(new String(v, StandardCharsets.UTF_8));
                            }
                        }
                    }
                    case 'E' -> error = m.fields();
                    case 'Z' -> {
                        return new Answer(tags, values, error);
                    }
                    default -> {
                    }
                }
            }
        }

        @Override
        public String toString() {
            return error != null ? "error " + error.get('C') + " " + error.get('M') : tags + " " + values;
        }
    }
    /**
     * pgbailiff reads the caller's privileges with a query on the caller's own backend
     * connection. When that query fails (here because EXECUTE on pg_has_role is revoked in one
     * database; a client's own cancel request can do the same), the statement fails with the
     * backend's error. It used to go on as if the caller were an ordinary user, and a superuser's
     * SHOW SESSIONS could quietly list only its own sessions.
     */
    @Test
    void aFailedPrivilegeLookupFailsTheStatementInsteadOfGuessing() throws Exception {
        String database = "caller_lookup";
        TestPostgres.recreateDatabase(database);
        try {
            try (Connection c = TestPostgres.get().directConnection("postgres", database); Statement s = c.createStatement()) {
                s.execute("REVOKE EXECUTE ON FUNCTION pg_catalog.pg_has_role(name, name, text), "
                        + "pg_catalog.pg_has_role(name, oid, text) FROM PUBLIC");
            }
            try (Connection alice = proxy.connect("alice", null, "dbname", database); Statement s = alice.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SHOW SESSIONS"));
                assertEquals("42501", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains("pg_has_role"), e.getMessage());
                assertTrue(s.executeQuery("SELECT 1").next(), "the session goes on");
            }
        } finally {
            TestPostgres.dropDatabase(database);
        }
    }
}
