package io.pgbailiff.adminsql;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a simple-query string into statements at top-level semicolons, as psql and the server
 * see them: semicolons inside quotes, dollar quotes, quoted identifiers and comments do not split.
 */
public final class StatementSplitter {

    /** One statement: its trimmed text and where that text starts in the original string. */
    public record Piece(String sql, int offset) {
    }

    private StatementSplitter() {
    }

    public static List<Piece> split(String sql) {
        List<Piece> out = new ArrayList<>();
        int start = 0, i = 0, n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == ';') {
                add(out, sql, start, i);
                start = ++i;
            } else if (c == '\'') {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'e' || sql.charAt(i - 1) == 'E')
                        && (i < 2 || !AdminSqlRecognizer.isIdentChar(sql.charAt(i - 2)));
                i = skipQuoted(sql, i, '\'', escapes);
            } else if (c == '"') {
                i = skipQuoted(sql, i, '"', false);
            } else if (c == '$' && (i == 0 || !AdminSqlRecognizer.isIdentChar(sql.charAt(i - 1)))) {
                int end = dollarQuoteEnd(sql, i);
                i = end > 0 ? end : i + 1;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                i = lineCommentEnd(sql, i, n);
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else {
                i++;
            }
        }
        add(out, sql, start, n);
        return out;
    }

    private static void add(List<Piece> out, String sql, int from, int to) {
        while (from < to && Character.isWhitespace(sql.charAt(from))) {
            from++;
        }
        while (to > from && Character.isWhitespace(sql.charAt(to - 1))) {
            to--;
        }
        if (to > from && !onlyComments(sql, from, to)) {
            out.add(new Piece(sql.substring(from, to), from));
        }
    }

    /** True if the text holds nothing but comments and whitespace: an empty statement, as the server sees it. */
    private static boolean onlyComments(String sql, int from, int to) {
        return skipComments(sql, from, to) == to;
    }

    /** The statement's text from its first token on, without the comments and whitespace before it. */
    public static String withoutLeadingComments(String statement) {
        int start = skipComments(statement, 0, statement.length());
        return start < 0 ? statement : statement.substring(start);
    }

    /**
     * The index of the first character in {@code [from, to)} that is neither whitespace nor in a
     * comment ({@code to} if there is none), or -1 at a block comment that is not closed.
     */
    private static int skipComments(String sql, int from, int to) {
        int i = from;
        while (i < to) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < to && sql.charAt(i + 1) == '-') {
                i = lineCommentEnd(sql, i, to);
            } else if (c == '/' && i + 1 < to && sql.charAt(i + 1) == '*') {
                i = blockCommentEnd(sql, i);
                if (i < 0) {
                    return -1;
                }
            } else {
                return i;
            }
        }
        return to;
    }

    /** The index of the line break ending the {@code --} comment at {@code i}, or {@code to}. */
    private static int lineCommentEnd(String sql, int i, int to) {
        while (i < to && sql.charAt(i) != '\n') {
            i++;
        }
        return i;
    }

    private static int skipQuoted(String s, int i, char q, boolean backslashes) {
        i++;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashes && c == '\\') {
                i += 2;
            } else if (c == q) {
                if (i + 1 < s.length() && s.charAt(i + 1) == q) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return s.length();
    }

    private static int skipBlockComment(String s, int i) {
        int end = blockCommentEnd(s, i);
        return end < 0 ? s.length() : end;
    }

    /** The index just after the (nested) block comment opening at {@code i}, or -1 if it is not closed. */
    private static int blockCommentEnd(String s, int i) {
        int depth = 0;
        while (i < s.length()) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                i += 2;
                if (--depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    /**
     * If a dollar quote ({@code $$} or {@code $tag$}) opens at {@code i}, the index just after its
     * closing delimiter (or the text's end if unclosed); otherwise -1.
     */
    static int dollarQuoteEnd(String s, int i) {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != '$') {
            char c = s.charAt(j);
            if (!(Character.isLetter(c) || c == '_' || (j > i + 1 && Character.isDigit(c)))) {
                return -1;
            }
            j++;
        }
        if (j >= s.length()) {
            return -1;
        }
        String tag = s.substring(i, j + 1);
        int close = s.indexOf(tag, j + 1);
        return close < 0 ? s.length() : close + tag.length();
    }
}
