package io.pgbailiff.adminsql;

import io.pgbailiff.adminsql.AdminStatement.Cancel;
import io.pgbailiff.adminsql.AdminStatement.Scope;
import io.pgbailiff.adminsql.AdminStatement.Target;
import io.pgbailiff.protocol.SqlState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminStatementParserTest {

    private static AdminStatement parse(String sql) {
        Optional<AdminStatement> s = AdminStatementParser.parse(sql);
        assertTrue(s.isPresent(), sql);
        return s.get();
    }

    @Test
    void showForms() {
        assertEquals(new AdminStatement.ShowSessions(false, Scope.CLUSTER), parse("SHOW SESSIONS"));
        assertEquals(new AdminStatement.ShowSessions(true, Scope.LOCAL), parse("show all local sessions;"));
        assertEquals(new AdminStatement.ShowSessions(false, Scope.CLUSTER), parse("SHOW CLUSTER SESSIONS -- c\n;;"));
        assertEquals(new AdminStatement.ShowQueries(false, Scope.CLUSTER), parse("SHOW QUERIES"));
        assertEquals(new AdminStatement.ShowQueries(true, Scope.CLUSTER), parse("/* x */ SHOW ALL STATEMENTS"));
        assertEquals(new AdminStatement.ShowQueries(false, Scope.LOCAL), parse("SHOW LOCAL queries"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"SHOW work_mem", "SELECT 1", "SHOW search_path", "SHOW ALL", "select * from pg_stat_activity",
            "WITH x AS (SELECT 1) SELECT * FROM x", "INSERT INTO t VALUES (1)", "", "-- nothing"})
    void notAdmin(String sql) {
        assertTrue(AdminStatementParser.parse(sql).isEmpty(), sql);
    }

    @Test
    void cancelForms() {
        assertEquals(new Cancel(Target.SESSION, false, false, new AdminStatement.Literal("1530fe0e46d2692e0000000000000001")),
                parse("CANCEL SESSION '1530fe0e46d2692e0000000000000001';"));
        assertEquals(new Cancel(Target.SESSION, false, true, new AdminStatement.Parameter(1)), parse("cancel session if exists $1"));
        assertEquals(new Cancel(Target.QUERY, false, true, new AdminStatement.Literal("ab")), parse("CANCEL QUERY IF EXISTS 'ab'"));
        Cancel c = (Cancel) parse("CANCEL SESSION (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'x')");
        assertEquals(Target.SESSION, c.target());
        assertTrue(!c.plural());
        assertInstanceOf(AdminStatement.Subquery.class, c.source());
        Cancel many = (Cancel) parse("CANCEL SESSIONS SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = 'x'");
        assertTrue(many.plural());
        Cancel q = (Cancel) parse("CANCEL QUERIES IF EXISTS (SELECT query_id FROM [SHOW QUERIES])");
        assertEquals(Target.QUERY, q.target());
        assertTrue(q.plural() && q.ifExists());
        assertEquals(2, parse("CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE user_name = $2)").parameterCount());
    }

    /** Any user may send these, and they are parsed on the event loop: deep nesting must cost little and fail cleanly. */
    @Test
    void deeplyNestedParenthesesParseQuicklyOrAreRefused() {
        for (int depth : new int[]{5, 10, 15}) {
            String nested = "(".repeat(depth) + "true" + ")".repeat(depth);
            assertTrue(AdminStatementParser.parse("SELECT count(*) FROM [SHOW SESSIONS] WHERE " + nested).isPresent());
            assertTrue(AdminStatementParser.parse("SELECT md_interrupt_server_connection(" + "(".repeat(depth) + "'x'"
                    + ")".repeat(depth) + ")").isPresent());
        }
        String deep = "SELECT count(*) FROM [SHOW SESSIONS] WHERE " + "(".repeat(17) + "true" + ")".repeat(17);
        AdminSqlException e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse(deep));
        assertEquals(SqlState.STATEMENT_TOO_COMPLEX, e.state());
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse(deep
                .replace("(".repeat(17), "(".repeat(3000)).replace(")".repeat(17), ")".repeat(3000))));
        assertEquals(SqlState.STATEMENT_TOO_COMPLEX, e.state());
    }

    /** pgjdbc's simple query mode inlines a parameter as {@code ('value')}, with a cast for some types. */
    @Test
    void aParenthesisedIdIsTheIdItself() {
        assertEquals(new Cancel(Target.SESSION, false, false, new AdminStatement.Literal("ab")), parse("CANCEL SESSION ('ab')"));
        assertEquals(new Cancel(Target.SESSION, false, true, new AdminStatement.Literal("ab")),
                parse("CANCEL SESSION IF EXISTS (('ab'));"));
        assertEquals(new Cancel(Target.QUERY, false, false, new AdminStatement.Literal("ab")), parse("CANCEL QUERY ('ab'::varchar)"));
        assertEquals(new Cancel(Target.QUERY, false, true, new AdminStatement.Parameter(1)), parse("CANCEL QUERY IF EXISTS ($1::text)"));
        assertThrows(AdminSqlException.class, () -> parse("CANCEL SESSION ('ab'"));
        assertThrows(AdminSqlException.class, () -> parse("CANCEL SESSION ('ab') 'cd'"));
        assertThrows(AdminSqlException.class, () -> parse("CANCEL SESSION ('ab'::int)"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SHOW SESSIONS;",
            "CANCEL SESSION '1530fe0e46d2692e0000000000000001';",
            "CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS]\n       WHERE username = 'root');",
            "CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS]\n       WHERE user_name = 'maxroach');",
            "CANCEL SESSIONS (WITH x AS (SHOW SESSIONS) SELECT session_id FROM x\n      WHERE user_name = 'root');",
            "CANCEL SESSIONS (WITH x AS (SHOW SESSIONS) SELECT session_id FROM x\n      WHERE user_name = 'maxroach');",
            "SELECT md_interrupt_server_connection('2601e799-51b3-47a7-a64f-18688d148887');",
            "-- Interrupt all connections where a `CREATE TABLE` query is running\n"
                    + "SELECT md_interrupt_server_connection(client_connection_id)\nFROM md_active_server_connections()\n"
                    + "WHERE client_query ILIKE 'CREATE TABLE%';",
            "FROM md_active_server_connections();",
            "SELECT md_current_client_connection_id();",
            "SELECT * FROM md_active_server_connections() WHERE server_transaction_elapsed_time > interval '5 minutes'",
            "WITH x AS (SHOW ALL LOCAL QUERIES) SELECT query_id FROM x",
    })
    void seedAndSourceExamplesParse(String sql) {
        parse(sql);
    }

    @Test
    void selectColumnsAreKnownBeforeRunning() {
        SelectQuery q = (SelectQuery) parse("SELECT session_id AS id, count(*) FROM [SHOW SESSIONS] GROUP BY session_id");
        assertEquals(new Column("id", PgType.TEXT), q.columns().get(0));
        assertEquals(new Column("count", PgType.INT8), q.columns().get(1));
        assertEquals(new Column("md_interrupt_server_connection", PgType.BOOL),
                parse("SELECT md_interrupt_server_connection('2601e799-51b3-47a7-a64f-18688d148887')").columns().get(0));
        assertEquals(VirtualTable.SESSIONS.columns(), parse("SELECT * FROM [SHOW SESSIONS]").columns());
    }

    @Test
    void syntaxErrorsCarryPosition() {
        AdminSqlException e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("CANCEL SESSION 'x' junk"));
        assertEquals(SqlState.SYNTAX_ERROR, e.state());
        assertEquals(20, e.position());
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("CANCEL JOB 'x'"));
        assertEquals(SqlState.SYNTAX_ERROR, e.state());
        assertEquals(8, e.position());
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("CANCEL SESSION"));
        assertEquals("syntax error at end of input", e.getMessage());
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("SHOW SESSIONS now"));
        assertEquals(15, e.position());
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("SELECT session_id FROM [SHOW SESSIONS] WHERE = 1"));
        assertEquals(SqlState.SYNTAX_ERROR, e.state());
        assertTrue(e.position() > 0);
    }

    @Test
    void unsupportedSelects() {
        AdminSqlException e = assertThrows(AdminSqlException.class,
                () -> AdminStatementParser.parse("SELECT * FROM [SHOW SESSIONS] s JOIN pg_stat_activity p ON p.pid = s.backend_pid"));
        assertEquals(SqlState.FEATURE_NOT_SUPPORTED, e.state());
        assertTrue(e.hint().contains("[SHOW SESSIONS]"));
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("SELECT pg_sleep(1) FROM [SHOW SESSIONS]"));
        assertEquals(SqlState.FEATURE_NOT_SUPPORTED, e.state());
        e = assertThrows(AdminSqlException.class, () -> AdminStatementParser.parse("SELECT nope FROM [SHOW SESSIONS]"));
        assertEquals(SqlState.UNDEFINED_COLUMN, e.state());
    }
}
