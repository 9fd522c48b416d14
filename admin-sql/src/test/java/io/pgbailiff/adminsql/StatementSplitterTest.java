package io.pgbailiff.adminsql;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StatementSplitterTest {

    private static List<String> texts(String sql) {
        return StatementSplitter.split(sql).stream().map(StatementSplitter.Piece::sql).toList();
    }

    @Test
    void splitsAtTopLevelSemicolonsWithOffsets() {
        List<StatementSplitter.Piece> p = StatementSplitter.split("SELECT 1; SHOW SESSIONS ;;  ");
        assertEquals(List.of(new StatementSplitter.Piece("SELECT 1", 0), new StatementSplitter.Piece("SHOW SESSIONS", 10)), p);
    }

    @Test
    void quotesAndCommentsDoNotSplit() {
        assertEquals(List.of("SELECT 'a;''b'", "SELECT 2"), texts("SELECT 'a;''b'; SELECT 2"));
        assertEquals(List.of("SELECT E'a\\';b'", "SELECT 2"), texts("SELECT E'a\\';b'; SELECT 2"));
        assertEquals(List.of("SELECT \"x;y\" FROM t"), texts("SELECT \"x;y\" FROM t"));
        assertEquals(List.of("SELECT $$a;b$$", "SELECT $tag$ ; $$ ; $tag$"), texts("SELECT $$a;b$$; SELECT $tag$ ; $$ ; $tag$"));
        assertEquals(List.of("SELECT 1 -- ; no\n", "SELECT 2").size(), texts("SELECT 1 -- ; no\n; SELECT 2").size());
        assertEquals(List.of("SELECT /* ; /* ; */ ; */ 1", "SELECT 2"), texts("SELECT /* ; /* ; */ ; */ 1; SELECT 2"));
        assertEquals(List.of("SELECT $1", "SELECT 2"), texts("SELECT $1; SELECT 2"));
    }

    @Test
    void emptyInputGivesNoStatements() {
        assertEquals(List.of(), texts(" ; ;\n"));
    }

    /** The server drops a statement that is only comments, as after a final semicolon: {@code SELECT 1; -- done}. */
    @Test
    void commentsAfterTheLastSemicolonAreNoStatement() {
        assertEquals(List.of("SHOW SESSIONS"), texts("SHOW SESSIONS; -- list them"));
        assertEquals(List.of("SHOW SESSIONS"), texts("SHOW SESSIONS; /* done */\n"));
        assertEquals(List.of("SHOW SESSIONS"), texts("SHOW SESSIONS; /* a /* nested */ one */ -- and a line\n ;"));
        assertEquals(List.of("CANCEL SESSION IF EXISTS 'x'"), texts("-- first\n; CANCEL SESSION IF EXISTS 'x'; -- x"));
        assertEquals(List.of("-- the statement's own\nSHOW SESSIONS"), texts("-- the statement's own\nSHOW SESSIONS"));
        assertEquals("COMMIT", StatementSplitter.withoutLeadingComments("/* app:checkout */ -- x\n COMMIT"));
        assertEquals("COMMIT /* after */", StatementSplitter.withoutLeadingComments("COMMIT /* after */"));
        assertEquals("/* unclosed COMMIT", StatementSplitter.withoutLeadingComments("/* unclosed COMMIT"));
        assertEquals(List.of("SHOW SESSIONS", "/* unclosed"), texts("SHOW SESSIONS; /* unclosed"),
                "an unclosed comment is the server's to refuse");
    }
}
