package io.pgbailiff.adminsql;

import io.pgbailiff.protocol.SqlState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;

import static io.pgbailiff.adminsql.InMemorySessionDirectory.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminExecutorTest {
    static final Instant NOW = Instant.parse("2024-01-02T00:10:00Z");
    static final String A = "1530c309b1d8d5f00000000000000001"; // root, superuser, running CREATE TABLE
    static final String B = "1530fe0e46d2692e0000000000000001"; // maxroach, idle in transaction
    static final String C = "15310cc79671fc6a0000000000000001"; // maxroach, idle
    static final String D = "15320000000000000000000000000001"; // alice, running create table

    final AdminExecutor executor = new AdminExecutor(Clock.fixed(NOW, ZoneOffset.UTC));
    InMemorySessionDirectory dir;

    static Caller caller(String name) {
        SessionId own = SessionId.parse("99990000000000000000000000000001");
        return switch (name) {
            case "root" -> new Caller(SessionId.parse(A), "root", true, false, false, false);
            case "maxroach" -> new Caller(SessionId.parse(C), "maxroach", false, false, false, false);
            case "signal" -> new Caller(own, "ops", false, false, true, false);
            case "stats" -> new Caller(own, "monitor", false, true, false, false);
            case "admin" -> new Caller(own, "boss", false, false, false, true);
            default -> new Caller(own, name, false, false, false, false);
        };
    }

    @BeforeEach
    void sessions() {
        dir = new InMemorySessionDirectory(1);
        Instant t0 = Instant.parse("2024-01-02T00:00:00Z");
        // not in id order: the listing sorts, whatever order the directory hands them over in
        dir.add(session(D, "alice", false, SessionStatus.ACTIVE, "create table x (a int)", 3, t0.plusSeconds(60), NOW.minusSeconds(360), null));
        dir.add(session(B, "maxroach", false, SessionStatus.IDLE_IN_TRANSACTION, null, 0, t0.plusSeconds(360), null, NOW.minusSeconds(480)));
        dir.add(session(A, "root", true, SessionStatus.ACTIVE, "CREATE TABLE t AS SELECT 1", 7, t0, NOW.minusSeconds(60), null));
        dir.add(session(C, "maxroach", false, SessionStatus.IDLE, null, 0, t0.plusSeconds(570), null, null));
    }

    AdminResult run(String sql, String who, String... params) {
        AdminStatement st = AdminStatementParser.parse(sql).orElseThrow();
        try {
            return executor.execute(st, Arrays.asList(params), caller(who), dir).join();
        } catch (CompletionException e) {
            throw (RuntimeException) e.getCause();
        }
    }

    AdminSqlException fails(String sql, String who, SqlState state) {
        AdminSqlException e = assertThrows(AdminSqlException.class, () -> run(sql, who));
        assertEquals(state, e.state(), e.getMessage());
        return e;
    }

    static List<Object> column(AdminResult r, int i) {
        List<Object> out = new ArrayList<>();
        r.rows().forEach(row -> out.add(row.get(i)));
        return out;
    }

    @Test
    void showSessionsColumnsAndVisibility() {
        AdminResult r = run("SHOW SESSIONS", "root");
        assertEquals(List.of("node_id", "session_id", "status", "user_name", "authentication_method", "client_address",
                "application_name", "active_queries", "last_active_query", "session_start", "active_query_start",
                "num_txns_executed", "database_name", "backend_pid", "tls"), r.columns().stream().map(Column::name).toList());
        assertEquals("SELECT 4", r.commandTag());
        assertEquals(List.of(A, B, C, D), column(r, 1));
        assertEquals("CREATE TABLE t AS SELECT 1", r.rows().get(0).get(7));
        assertEquals(List.of(B, C), column(run("SHOW SESSIONS", "maxroach"), 1));
        assertEquals(List.of(A, B, C, D), column(run("SHOW SESSIONS", "stats"), 1));
        assertEquals(List.of(A, B, C, D), column(run("SHOW SESSIONS", "admin"), 1));
        AdminResult signal = run("SHOW SESSIONS", "signal");
        assertEquals(List.of(B, C, D), column(signal, 1));
        assertEquals(Privileges.HIDDEN_TEXT, signal.rows().get(2).get(7));
        assertEquals(Privileges.HIDDEN_TEXT, signal.rows().get(2).get(8));
    }

    @Test
    void showQueriesListsRunningStatementsWithQueryIds() {
        AdminResult r = run("SHOW QUERIES", "root");
        assertEquals(List.of("query_id", "node_id", "session_id", "user_name", "start", "query", "client_address",
                "application_name", "phase"), r.columns().stream().map(Column::name).toList());
        assertEquals(List.of(A, D), column(r, 2));
        assertEquals("1530c309b1d8d5f00000000700000001", r.rows().get(0).get(0));
        assertEquals("executing", r.rows().get(0).get(8));
    }

    @Test
    void aStatementWhoseCancelIsInFlightIsInPhaseCancelling() {
        SessionSnapshot a = dir.sessions().stream().filter(s -> s.id().hex().equals(A)).findFirst().orElseThrow();
        dir.sessions.remove(a);
        dir.add(new SessionSnapshot(a.nodeId(), a.id(), a.userName(), a.databaseName(), a.applicationName(), a.clientAddress(),
                a.authenticationMethod(), a.tls(), a.sessionStart(), a.status(), a.activeQuery(), a.activeQueryStart(),
                a.activeQuerySequence(), a.lastActiveQuery(), a.transactionStart(), a.transactionCount(), a.backendPid(),
                a.superuser(), a.statementCount(), a.bytesFromClient(), a.bytesToClient(), true));
        AdminResult r = run("SELECT session_id, phase FROM [SHOW QUERIES] ORDER BY session_id", "root");
        assertEquals(List.of(List.of(A, "cancelling"), List.of(D, "executing")), r.rows());
    }

    @Test
    void cancelSessionByLiteralInEitherForm() {
        assertEquals("CANCEL SESSIONS 1", run("CANCEL SESSION '" + C + "'", "root").commandTag());
        assertEquals("CANCEL SESSIONS 1", run("CANCEL SESSION '1530FE0E-46D2-692E-0000-000000000001'", "root").commandTag());
        assertEquals(List.of("cancelSession " + C, "cancelSession " + B), dir.calls);
    }

    @Test
    void cancelSessionByParameter() {
        assertEquals("CANCEL SESSIONS 1", run("CANCEL SESSION $1", "maxroach", B).commandTag());
        assertEquals(List.of("cancelSession " + B), dir.calls);
    }

    @Test
    void malformedId() {
        AdminSqlException e = fails("CANCEL SESSION 'zz'", "root", SqlState.SYNTAX_ERROR);
        assertEquals("invalid session ID 'zz'", e.getMessage());
        fails("CANCEL SESSION '1530fe0e46d2692e00000000000000011'", "root", SqlState.SYNTAX_ERROR);
        assertEquals(List.of(), dir.calls);
    }

    @Test
    void unknownIdAndIfExists() {
        String id = "00000000000000000000000000000009";
        AdminSqlException e = fails("CANCEL SESSION '" + id + "'", "root", SqlState.UNDEFINED_OBJECT);
        assertEquals("could not cancel session " + id + ": session ID " + id + " not found", e.getMessage());
        assertEquals("CANCEL SESSIONS 0", run("CANCEL SESSION IF EXISTS '" + id + "'", "root").commandTag());
        e = fails("CANCEL QUERY '" + id + "'", "root", SqlState.UNDEFINED_OBJECT);
        assertEquals("could not cancel query " + id + ": query ID " + id + " not found", e.getMessage());
        assertEquals("CANCEL QUERIES 0", run("CANCEL QUERY IF EXISTS '" + id + "'", "root").commandTag());
        assertEquals(List.of("unmatched cancel session " + id, "unmatched cancel session " + id,
                "unmatched cancel query " + id, "unmatched cancel query " + id), dir.calls, "nothing acted on, every attempt on record");
    }

    @Test
    void singularWithTwoRowsCancelsNothing() {
        AdminSqlException e = fails("CANCEL SESSION (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'maxroach')",
                "root", SqlState.CARDINALITY_VIOLATION);
        assertEquals("more than one row returned by a subquery used as an expression", e.getMessage());
        assertEquals(List.of(), dir.calls);
    }

    @Test
    void seedExamples() {
        assertEquals("CANCEL SESSIONS 1", run("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS]\n       WHERE username = 'root');", "root").commandTag());
        assertEquals("CANCEL SESSIONS 2", run("CANCEL SESSIONS (WITH x AS (SHOW SESSIONS) SELECT session_id FROM x\n      WHERE user_name = 'maxroach');", "root").commandTag());
        assertEquals(List.of("cancelSession " + A, "cancelSession " + B, "cancelSession " + C), dir.calls);
    }

    @Test
    void pluralUnparenthesisedSelect() {
        assertEquals("CANCEL SESSIONS 2", run("CANCEL SESSIONS SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'maxroach'", "maxroach").commandTag());
    }

    @Test
    void permissionIsCheckedForAllTargetsBeforeActing() {
        // the admin role may cancel alice's session (listed first) but not root's superuser session
        AdminSqlException e = fails("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name IN ('alice', 'root') "
                + "ORDER BY session_id DESC)", "admin", SqlState.INSUFFICIENT_PRIVILEGE);
        assertEquals("permission denied to cancel admin session " + A, e.getMessage());
        assertEquals(List.of(), dir.calls);
    }

    @ParameterizedTest
    @CsvSource({
            "maxroach, C, true", "maxroach, A, false", "maxroach, D, false",
            "signal, C, true", "signal, D, true", "signal, A, false",
            "stats, C, false", "stats, A, false",
            "root, C, true", "root, D, true", "root, A, true",
            "admin, C, true", "admin, D, true", "admin, A, false"})
    void privilegeMatrix(String who, String target, boolean allowed) {
        String id = switch (target) {
            case "A" -> A;
            case "C" -> C;
            default -> D;
        };
        String sql = "CANCEL SESSION '" + id + "'";
        if (allowed) {
            assertEquals("CANCEL SESSIONS 1", run(sql, who).commandTag());
            assertEquals(List.of("cancelSession " + id), dir.calls);
        } else {
            AdminSqlException e = fails(sql, who, SqlState.INSUFFICIENT_PRIVILEGE);
            String expected = target.equals("A") ? "permission denied to cancel admin session " + id
                    : "permission denied to cancel session " + id;
            assertEquals(expected, e.getMessage());
            assertEquals(List.of(), dir.calls);
        }
    }

    @Test
    void cancelQuery() {
        assertEquals("CANCEL QUERIES 1", run("CANCEL QUERY '15320000000000000000000300000001'", "alice").commandTag());
        assertEquals("CANCEL QUERIES 2", run("CANCEL QUERIES (SELECT query_id FROM [SHOW QUERIES])", "root").commandTag());
        assertEquals(List.of("cancelQuery " + D + " 3", "cancelQuery " + A + " 7", "cancelQuery " + D + " 3"), dir.calls);
        assertEquals("invalid query ID 'nope'", fails("CANCEL QUERY 'nope'", "root", SqlState.SYNTAX_ERROR).getMessage());
    }

    /** backend_pid is an integer: a quoted number compares with it as PostgreSQL's unknown-typed literal does. */
    @Test
    void backendPidComparesWithNumbersAndQuotedNumbers() {
        List<Object> all = where("backend_pid = 100");
        assertEquals(4, all.size());
        assertEquals(all, where("backend_pid = '100'"));
        assertEquals(all, where("'100' = backend_pid"));
        assertEquals(all, where("backend_pid IN ('100', '7')"));
        assertEquals(List.of(), where("backend_pid > '100'"));
        assertEquals(all, where("backend_pid = 100::bigint"));
        AdminSqlException e = assertThrows(AdminSqlException.class, () -> where("backend_pid = true"));
        assertEquals("operator does not exist: integer = boolean", e.getMessage());
    }

    /** The operators after an IN list or subquery bind as in PostgreSQL: NOT, then AND, then OR. */
    @Test
    void inFollowedByAndOrAndNot() {
        assertEquals(List.of(D), where("user_name IN ('maxroach', 'alice') AND status = 'ACTIVE'"));
        assertEquals(List.of(A, C), where("user_name IN ('root') OR status = 'IDLE'"));
        assertEquals(List.of(D), where("user_name = 'alice' OR user_name IN ('root') AND status = 'IDLE'"));
        assertEquals(List.of(C, D), where("user_name IN ('alice') OR user_name IN ('root') AND status = 'IDLE' OR status = 'IDLE'"));
        assertEquals(List.of(A, D), where("NOT user_name IN ('maxroach') AND status = 'ACTIVE'"));
        assertEquals(List.of(A, D), where("user_name NOT IN ('maxroach') AND user_name IN ('alice', 'root') AND status <> 'IDLE'"));
        assertEquals(List.of(D), where("user_name IN ('alice') AND (status = 'IDLE' OR status = 'ACTIVE')"));
        assertEquals(List.of(C), where("session_id IN (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'maxroach')"
                + " AND status = 'IDLE'"));
        assertEquals("CANCEL SESSIONS 1", run("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS]"
                + " WHERE user_name IN ('maxroach', 'nobody') AND status = 'IDLE')", "root").commandTag());
        assertEquals(List.of("cancelSession " + C), dir.calls);
    }

    private List<Object> where(String condition) {
        return column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE " + condition, "root"), 0);
    }

    @Test
    void usernameAliasAndWhereOperators() {
        assertEquals(List.of(B, C), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE username = 'maxroach'", "root"), 0));
        assertEquals(List.of(A, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE user_name <> 'maxroach'", "root"), 0));
        assertEquals(List.of(A), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE active_queries LIKE 'CREATE%'", "root"), 0));
        assertEquals(List.of(A, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE active_queries ILIKE 'create%'", "root"), 0));
        assertEquals(List.of(B, C, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE active_queries NOT LIKE 'CREATE%'", "root"), 0));
        assertEquals(List.of(B, C), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE active_queries NOT ILIKE 'create%'", "root"), 0));
        assertEquals(List.of(A, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE user_name IN ('root', 'alice')", "root"), 0));
        assertEquals(List.of(B, C), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE active_query_start IS NULL", "root"), 0));
        assertEquals(List.of(A, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE active_query_start IS NOT NULL", "root"), 0));
        assertEquals(List.of(A, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE session_start BETWEEN '2024-01-02 00:00:00+00' AND '2024-01-02 00:02:00+00'", "root"), 0));
        assertEquals(List.of(B), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE NOT (user_name = 'root' OR status = 'IDLE') AND status <> 'ACTIVE'", "root"), 0));
        assertEquals(List.of(C), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE session_start >= '2024-01-02 00:09:00+00'", "root"), 0));
        assertEquals(List.of(A), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE session_start < '2024-01-02 00:01:00+00'", "root"), 0));
        assertEquals(List.of(B, C), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = current_user", "maxroach"), 0));
        assertEquals(List.of(A), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE session_id = $1", "root", A), 0));
    }

    @Test
    void intervalArithmetic() {
        assertEquals(List.of(A, D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE now() - session_start > interval '5 minutes'", "root"), 0));
        AdminResult r = run("SELECT now() - session_start AS age FROM [SHOW SESSIONS] WHERE user_name = 'root'", "root");
        assertEquals(new Column("age", PgType.INTERVAL), r.columns().get(0));
        assertEquals("00:10:00", r.rows().get(0).get(0).toString());
    }

    @Test
    void orderByLimitOffset() {
        assertEquals(List.of(D, C), column(run("SELECT session_id FROM [SHOW SESSIONS] ORDER BY session_id DESC LIMIT 2", "root"), 0));
        assertEquals(List.of(B, C), column(run("SELECT session_id, user_name FROM [SHOW SESSIONS] ORDER BY 2, 1 LIMIT 2 OFFSET 1", "root"), 0));
    }

    @Test
    void countGroupBy() {
        AdminResult r = run("SELECT user_name, count(*) FROM [SHOW SESSIONS] GROUP BY user_name ORDER BY count(*) DESC, user_name", "root");
        assertEquals(List.of(List.of("maxroach", 2L), List.of("alice", 1L), List.of("root", 1L)), r.rows());
        assertEquals(List.of(List.of(4L)), run("SELECT count(*) FROM [SHOW SESSIONS]", "root").rows());
    }

    /** GROUP BY refers to output columns by position and by name, and what is not grouped may not be selected, as in PostgreSQL. */
    @Test
    void groupByOutputColumnsAndUngroupedColumns() {
        List<List<Object>> byUser = List.of(List.of("maxroach", 2L), List.of("alice", 1L), List.of("root", 1L));
        assertEquals(byUser, run("SELECT user_name, count(*) FROM [SHOW SESSIONS] GROUP BY 1 ORDER BY 2 DESC, 1", "root").rows());
        assertEquals(byUser, run("SELECT user_name AS who, count(*) FROM [SHOW SESSIONS] GROUP BY who ORDER BY 2 DESC, 1", "root").rows());
        assertEquals("column \"user_name\" must appear in the GROUP BY clause or be used in an aggregate function",
                fails("SELECT user_name, count(*) FROM [SHOW SESSIONS]", "root", SqlState.GROUPING_ERROR).getMessage());
        fails("SELECT *, count(*) FROM [SHOW SESSIONS] GROUP BY user_name", "root", SqlState.GROUPING_ERROR);
        fails("SELECT user_name FROM [SHOW SESSIONS] GROUP BY status", "root", SqlState.GROUPING_ERROR);
        fails("SELECT user_name, count(*) FROM [SHOW SESSIONS] GROUP BY 3", "root", SqlState.INVALID_COLUMN_REFERENCE);
        assertEquals(byUser, run("SELECT (user_name), count(*) FROM [SHOW SESSIONS] GROUP BY (user_name) ORDER BY 2 DESC, 1", "root").rows());
        assertEquals("column \"node_id\" must appear in the GROUP BY clause or be used in an aggregate function",
                fails("SELECT *, count(*) FROM [SHOW SESSIONS] GROUP BY 2", "root", SqlState.GROUPING_ERROR).getMessage(),
                "position 2 is the second column of *, session_id, and node_id is not grouped");
        assertEquals("aggregate functions are not allowed in GROUP BY",
                fails("SELECT user_name, count(*) FROM [SHOW SESSIONS] GROUP BY 1, 2", "root", SqlState.GROUPING_ERROR).getMessage());
        assertEquals("aggregate functions are not allowed in WHERE",
                fails("SELECT user_name FROM [SHOW SESSIONS] WHERE count(*) > 1", "root", SqlState.GROUPING_ERROR).getMessage());
        assertEquals(List.of(List.of(5L, true)), run("SELECT count(*) + 1, max(user_name) = 'root' FROM [SHOW SESSIONS]", "root").rows(),
                "an aggregate inside an expression makes the select aggregate");
        fails("SELECT user_name FROM [SHOW SESSIONS] ORDER BY count(*)", "root", SqlState.GROUPING_ERROR);
        assertEquals(List.of(List.of("alice")), run("SELECT user_name FROM [SHOW SESSIONS] WHERE session_id IN "
                + "(SELECT max(session_id) FROM [SHOW SESSIONS])", "root").rows(), "an aggregate in a subquery of WHERE is allowed");
    }

    /**
     * A column that is not grouped may not be used outside an aggregate in HAVING or ORDER BY
     * either: its value would be an arbitrary row's, and a CANCEL SESSIONS over such a select
     * would end a session nobody asked to end.
     */
    @Test
    void ungroupedColumnsInHavingAndOrderByAndNestedAggregatesAreRefused() {
        assertEquals("column \"user_name\" must appear in the GROUP BY clause or be used in an aggregate function",
                fails("SELECT max(session_id) FROM [SHOW SESSIONS] GROUP BY status HAVING user_name = 'alice'", "root",
                        SqlState.GROUPING_ERROR).getMessage());
        fails("CANCEL SESSIONS (SELECT max(session_id) FROM [SHOW SESSIONS] GROUP BY user_name HAVING application_name = 'x')",
                "root", SqlState.GROUPING_ERROR);
        fails("SELECT count(*) FROM [SHOW SESSIONS] ORDER BY user_name", "root", SqlState.GROUPING_ERROR);
        fails("SELECT user_name, count(*) FROM [SHOW SESSIONS] GROUP BY user_name ORDER BY session_id", "root", SqlState.GROUPING_ERROR);
        fails("SELECT upper(user_name), count(*) FROM [SHOW SESSIONS]", "root", SqlState.GROUPING_ERROR);
        assertEquals(List.of(List.of("maxroach")), run("SELECT user_name FROM [SHOW SESSIONS] GROUP BY user_name "
                + "HAVING count(*) > 1 AND user_name <> 'root' ORDER BY user_name, max(session_id)", "root").rows());
        assertEquals(3, run("SELECT upper(user_name), count(*) FROM [SHOW SESSIONS] GROUP BY upper(user_name)", "root").rows().size(),
                "an expression over a grouped expression stays allowed");
        for (String nested : List.of("SELECT count(count(*)) FROM [SHOW SESSIONS]",
                "SELECT user_name FROM [SHOW SESSIONS] GROUP BY user_name HAVING count(count(*)) > 0",
                "SELECT user_name FROM [SHOW SESSIONS] GROUP BY user_name ORDER BY max(count(*))")) {
            assertEquals("aggregate function calls cannot be nested",
                    fails(nested, "root", SqlState.GROUPING_ERROR).getMessage(), nested);
        }
        assertEquals("aggregate functions are not allowed in LIMIT",
                fails("SELECT session_id FROM [SHOW SESSIONS] LIMIT count(*)", "root", SqlState.GROUPING_ERROR).getMessage());
    }

    /** The SQLSTATEs PostgreSQL gives for the same mistakes. */
    @Test
    void limitOffsetOrderByPositionAndTimestampErrorsCarryPostgresStates() {
        fails("SELECT session_id FROM [SHOW SESSIONS] ORDER BY 2", "root", SqlState.INVALID_COLUMN_REFERENCE);
        fails("SELECT session_id FROM [SHOW SESSIONS] LIMIT -1", "root", SqlState.INVALID_ROW_COUNT_IN_LIMIT_CLAUSE);
        fails("SELECT session_id FROM [SHOW SESSIONS] OFFSET -1", "root", SqlState.INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE);
        fails("SELECT session_id FROM [SHOW SESSIONS] WHERE session_start > 'the day before'", "root", SqlState.INVALID_DATETIME_FORMAT);
    }

    @Test
    void activeConnectionsAndInterrupt() {
        AdminResult active = run("FROM md_active_server_connections()", "root");
        assertEquals(12, active.columns().size());
        assertEquals(List.of(UUID.fromString("1530c309-b1d8-d5f0-0000-000000000001"), UUID.fromString("1530fe0e-46d2-692e-0000-000000000001"),
                UUID.fromString("15320000-0000-0000-0000-000000000001")), column(active, 3));
        assertEquals("00:08:00", active.rows().get(1).get(6).toString());
        AdminResult r = run("-- Interrupt all connections where a `CREATE TABLE` query is running\n"
                + "SELECT md_interrupt_server_connection(client_connection_id)\nFROM md_active_server_connections()\n"
                + "WHERE client_query ILIKE 'CREATE TABLE%';", "root");
        assertEquals(List.of(List.of(true), List.of(true)), r.rows());
        assertEquals(List.of("interrupt " + A, "interrupt " + D), dir.calls);
    }

    @Test
    void interruptUnknownIsFalseAndBadUuidIs22P02() {
        assertEquals(List.of(List.of(false)), run("SELECT md_interrupt_server_connection('2601e799-51b3-47a7-a64f-18688d148887');", "root").rows());
        assertEquals(List.of(List.of(false)), run("SELECT md_interrupt_server_connection('" + C + "')", "root").rows());
        fails("SELECT md_interrupt_server_connection('not-a-uuid')", "root", SqlState.INVALID_TEXT_REPRESENTATION);
    }

    /** An attempt that reaches no session still leaves a record with the directory, so it can be audited. */
    @Test
    void attemptsThatReachNoSessionAreReported() {
        String rootUuid = VirtualTable.uuid(SessionId.parse(A)).toString();
        assertEquals(List.of(false), column(run("SELECT md_interrupt_server_connection('" + rootUuid + "')", "maxroach"), 0));
        assertEquals(List.of(), column(run("SELECT md_interrupt_server_connection(client_connection_id)"
                + " FROM md_active_server_connections() WHERE user_name = 'root'", "maxroach"), 0));
        assertEquals("CANCEL SESSIONS 0", run("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'root')",
                "maxroach").commandTag());
        assertEquals("CANCEL SESSIONS 0", run("CANCEL SESSION IF EXISTS '00000000000000000000000000000009'", "maxroach").commandTag());
        fails("CANCEL QUERY '00000000000000000000000000000009'", "maxroach", SqlState.UNDEFINED_OBJECT);
        assertEquals(List.of(
                "unmatched interrupt " + rootUuid,
                "unmatched interrupt the ids selected by SELECT md_interrupt_server_connection(client_connection_id)"
                        + " FROM md_active_server_connections() WHERE user_name = 'root'",
                "unmatched cancel session the ids selected by (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'root')",
                "unmatched cancel session 00000000000000000000000000000009",
                "unmatched cancel query 00000000000000000000000000000009"), dir.calls);
    }

    @Test
    void currentConnectionId() {
        AdminResult r = run("SELECT md_current_client_connection_id();", "maxroach");
        assertEquals(List.of(List.of(UUID.fromString("15310cc7-9671-fc6a-0000-000000000001"))), r.rows());
        assertEquals(PgType.UUID, r.columns().get(0).type());
    }

    @Test
    void castsAndUnknownColumn() {
        assertEquals(List.of(D), column(run("SELECT session_id FROM [SHOW SESSIONS] WHERE session_id::uuid = '15320000-0000-0000-0000-000000000001'::uuid", "root"), 0));
        assertEquals(List.of("1"), column(run("SELECT node_id::text FROM [SHOW SESSIONS] WHERE user_name = 'root'", "root"), 0));
        fails("SELECT session_id FROM [SHOW SESSIONS] WHERE nope = 1", "root", SqlState.UNDEFINED_COLUMN);
    }
}
