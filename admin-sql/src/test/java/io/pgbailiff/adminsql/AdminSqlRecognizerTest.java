package io.pgbailiff.adminsql;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
            "with x as (select 1) select * from x", "/* unterminated SHOW", "SELECT cmd_id FROM jobs"})
    void notAdmin(String sql) {
        assertFalse(AdminSqlRecognizer.mightBeAdmin(sql), sql);
    }

    @Test
    void anyStatementOfAQueryStringCounts() {
        assertTrue(AdminSqlRecognizer.mightContainAdmin("CREATE TABLE t (x int); SHOW SESSIONS"));
        assertTrue(AdminSqlRecognizer.mightContainAdmin("SELECT 1;\n-- next\ncancel query 'x'"));
        assertFalse(AdminSqlRecognizer.mightContainAdmin("SELECT 1; SELECT 2;"));
        assertFalse(AdminSqlRecognizer.mightContainAdmin("INSERT INTO t VALUES ('a;b')"));
    }

    /**
     * The single scan must answer exactly as the plain definition: a SHOW or CANCEL statement, or
     * a SELECT-like one whose text contains, case-insensitively, a word starting md_, [show, show sessions, show
     * queries, show statements, or ( / [ followed by the keyword SHOW. Checked on random texts
     * built from the pieces that matter, with the seed in the message.
     */
    @Test
    void agreesWithTheDefinitionOnRandomTexts() {
        String[] pieces = {"select ", "SELECT", "with x as ", "from ", "SHOW", "show", "sHoW", " ", "\t", "\n  ",
                "sessions", "SESSIONS", "queries", "Statements", "md_", "MD_", "m", "d_", "cmd_", "x.md_", "[", "(", ")", "]", "x",
                "\u0130", "\u212a", ";", "-- c\n", "/* c */", "cancel", "showx", "_", "'", "1"};
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int n = 0; n < 200_000; n++) {
            StringBuilder sb = new StringBuilder();
            for (int k = random.nextInt(12); k >= 0; k--) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            String sql = sb.toString();
            assertEquals(byDefinition(sql), AdminSqlRecognizer.mightContainAdmin(sql),
                    () -> "seed " + seed + ": '" + sql + "'");
        }
    }

    private static boolean byDefinition(String sql) {
        if (statementByDefinition(sql, 0)) {
            return true;
        }
        for (int semicolon = sql.indexOf(';'); semicolon >= 0; semicolon = sql.indexOf(';', semicolon + 1)) {
            if (statementByDefinition(sql, semicolon + 1)) {
                return true;
            }
        }
        return false;
    }

    private static boolean statementByDefinition(String sql, int from) {
        int i = AdminSqlRecognizer.skipSpaceAndComments(sql, from);
        if (i < 0) {
            return false;
        }
        if (keyword(sql, i, "SHOW") || keyword(sql, i, "CANCEL")) {
            return true;
        }
        if (!(keyword(sql, i, "SELECT") || keyword(sql, i, "WITH") || keyword(sql, i, "FROM") || sql.charAt(i) == '(')) {
            return false;
        }
        String lower = lowerWithSpaces(sql.substring(i));
        for (int at = lower.indexOf("md_"); at >= 0; at = lower.indexOf("md_", at + 1)) {
            if (at == 0 || !AdminSqlRecognizer.isIdentChar(lower.charAt(at - 1))) {
                return true;
            }
        }
        if (lower.contains("[show") || lower.contains("show sessions")
                || lower.contains("show queries") || lower.contains("show statements")) {
            return true;
        }
        for (int j = i; j < sql.length(); j++) {
            if (sql.charAt(j) == '(' || sql.charAt(j) == '[') {
                int k = j + 1;
                while (k < sql.length() && Character.isWhitespace(sql.charAt(k))) {
                    k++;
                }
                if (keyword(sql, k, "SHOW")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Each character lower-cased on its own, each whitespace run as one space. */
    private static String lowerWithSpaces(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                if (out.length() == 0 || out.charAt(out.length() - 1) != ' ') {
                    out.append(' ');
                }
            } else {
                out.append(Character.toLowerCase(c));
            }
        }
        return out.toString();
    }

    private static boolean keyword(String s, int i, String upper) {
        if (i + upper.length() > s.length()) {
            return false;
        }
        for (int k = 0; k < upper.length(); k++) {
            if (Character.toUpperCase(s.charAt(i + k)) != upper.charAt(k)) {
                return false;
            }
        }
        return i + upper.length() == s.length() || !AdminSqlRecognizer.isIdentChar(s.charAt(i + upper.length()));
    }
}
