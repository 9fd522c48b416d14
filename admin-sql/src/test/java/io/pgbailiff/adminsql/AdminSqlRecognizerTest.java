package io.pgbailiff.adminsql;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminSqlRecognizerTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "SHOW SESSIONS", "show sessions;", "  \n\tShOw QUERIES", "CANCEL SESSION 'x'", "cancel query $1",
            "-- comment\nSHOW SESSIONS", "/* a /* nested */ comment */ SHOW SESSIONS", "/**/cancel sessions (select 1)",
            "SELECT session_id FROM [SHOW SESSIONS]", "select * from [ show all queries ]",
            "WITH x AS (SHOW SESSIONS) SELECT session_id FROM x", "with x as (\n show local sessions) select * from x",
            "FROM md_active_server_connections()", "SELECT MD_CURRENT_CLIENT_CONNECTION_ID()",
            "select md_interrupt_server_connection('2601e799-51b3-47a7-a64f-18688d148887')",
            "SHOW work_mem", "(SELECT * FROM [SHOW SESSIONS])"})
    void admin(String sql) {
        assertTrue(AdminSqlRecognizer.mightBeAdmin(sql), sql);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 1", "select * from pg_stat_activity", "INSERT INTO md_table VALUES (1)", "-- SHOW SESSIONS\nSELECT 1",
            "/* CANCEL SESSION */ SELECT 1", "", "   ", "-- only a comment", "UPDATE t SET x = 1", "SHOWX", "CANCELLED",
            "with x as (select 1) select * from x", "/* unterminated SHOW"})
    void notAdmin(String sql) {
        assertFalse(AdminSqlRecognizer.mightBeAdmin(sql), sql);
    }

    @org.junit.jupiter.api.Test
    void anyStatementOfAQueryStringCounts() {
        assertTrue(AdminSqlRecognizer.mightContainAdmin("CREATE TABLE t (x int); SHOW SESSIONS"));
        assertTrue(AdminSqlRecognizer.mightContainAdmin("SELECT 1;\n-- next\ncancel query 'x'"));
        assertFalse(AdminSqlRecognizer.mightContainAdmin("SELECT 1; SELECT 2;"));
        assertFalse(AdminSqlRecognizer.mightContainAdmin("INSERT INTO t VALUES ('a;b')"));
    }
}
