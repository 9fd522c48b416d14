package io.pgbailiff.adminsql;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LikePatternTest {
    private static boolean like(String text, String pattern) {
        return LikePattern.compile(pattern, false).matches(text);
    }

    @Test
    void wildcardsAndEscapesAsInPostgres() {
        assertTrue(like("CREATE TABLE t", "CREATE TABLE%"));
        assertTrue(like("abc", "a_c"));
        assertFalse(like("ac", "a_c"));
        assertTrue(like("", "%"));
        assertFalse(like("", "_"));
        assertTrue(like("a%b", "a\\%b"));
        assertFalse(like("axb", "a\\%b"));
        assertTrue(like("a_b", "a\\_b"));
        assertTrue(like("mississippi", "%iss%ppi"));
        assertFalse(like("mississippi", "%iss%ppix"));
        assertTrue(like("abcabd", "%abd"));
        assertTrue(like("aaa", "%%a%%"));
        assertFalse(like("Abc", "abc"));
        assertTrue(LikePattern.compile("abc%", true).matches("ABCDEF"));
        assertTrue(LikePattern.compile("straße", true).matches("STRASSE".substring(0, 4) + "ße"));
    }

    /** A regular expression with .* per % backtracks exponentially here; the text is what any user can set as application_name. */
    @Test
    void patternsWithManyWildcardsTakeLinearishTime() {
        String text = "a".repeat(10_000) + "X";
        String pattern = "%a".repeat(40) + "%b";
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertFalse(like(text, pattern)));
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertTrue(like(text, "%a".repeat(40) + "%X")));
    }
}
