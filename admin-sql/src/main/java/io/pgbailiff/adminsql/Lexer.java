package io.pgbailiff.adminsql;

import io.pgbailiff.protocol.SqlState;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Splits SQL text into PostgreSQL-style tokens, dropping whitespace and comments. */
final class Lexer {

    enum Kind { WORD, QUOTED_IDENT, STRING, NUMBER, PARAM, SYMBOL }

    /** {@code value}: lowercase for a WORD, unescaped contents for a STRING or QUOTED_IDENT. */
    record Token(Kind kind, String value, int start, int end) {
        boolean isWord(String lower) {
            return kind == Kind.WORD && value.equals(lower);
        }

        boolean isSymbol(String s) {
            return kind == Kind.SYMBOL && value.equals(s);
        }
    }

    private final String sql;
    private int pos;

    private Lexer(String sql) {
        this.sql = sql;
    }

    static List<Token> tokenize(String sql) {
        return new Lexer(sql).all();
    }

    private List<Token> all() {
        List<Token> out = new ArrayList<>();
        while (true) {
            int i = AdminSqlRecognizer.skipSpaceAndComments(sql, pos);
            if (i < 0) {
                return out;
            }
            pos = i;
            out.add(next());
        }
    }

    private Token next() {
        int start = pos;
        char c = sql.charAt(pos);
        if ((c == 'e' || c == 'E') && pos + 1 < sql.length() && sql.charAt(pos + 1) == '\'') {
            pos++;
            return new Token(Kind.STRING, quoted('\'', true), start, pos);
        }
        if (c == '\'') {
            return new Token(Kind.STRING, quoted('\'', false), start, pos);
        }
        if (c == '"') {
            return new Token(Kind.QUOTED_IDENT, quoted('"', false), start, pos);
        }
        if (c == '$') {
            int j = pos + 1;
            while (j < sql.length() && Character.isDigit(sql.charAt(j))) {
                j++;
            }
            if (j > pos + 1) {
                pos = j;
                return new Token(Kind.PARAM, sql.substring(start + 1, j), start, j);
            }
            int end = StatementSplitter.dollarQuoteEnd(sql, pos);
            if (end > 0) {
                String tag = sql.substring(pos, sql.indexOf('$', pos + 1) + 1);
                pos = end;
                return new Token(Kind.STRING, sql.substring(start + tag.length(), end - tag.length()), start, end);
            }
        }
        if (Character.isLetter(c) || c == '_') {
            while (pos < sql.length() && AdminSqlRecognizer.isIdentChar(sql.charAt(pos))) {
                pos++;
            }
            return new Token(Kind.WORD, sql.substring(start, pos).toLowerCase(Locale.ROOT), start, pos);
        }
        if (Character.isDigit(c)) {
            while (pos < sql.length() && (Character.isLetterOrDigit(sql.charAt(pos)) || sql.charAt(pos) == '.')) {
                pos++;
            }
            return new Token(Kind.NUMBER, sql.substring(start, pos), start, pos);
        }
        if (c == ':' && pos + 1 < sql.length() && sql.charAt(pos + 1) == ':') {
            pos += 2;
            return new Token(Kind.SYMBOL, "::", start, pos);
        }
        pos++;
        return new Token(Kind.SYMBOL, String.valueOf(c), start, pos);
    }

    private String quoted(char q, boolean backslashes) {
        int start = pos;
        pos++;
        StringBuilder sb = new StringBuilder();
        while (pos < sql.length()) {
            char c = sql.charAt(pos);
            if (backslashes && c == '\\' && pos + 1 < sql.length()) {
                sb.append(sql.charAt(pos + 1));
                pos += 2;
            } else if (c == q) {
                if (pos + 1 < sql.length() && sql.charAt(pos + 1) == q) {
                    sb.append(q);
                    pos += 2;
                } else {
                    pos++;
                    return sb.toString();
                }
            } else {
                sb.append(c);
                pos++;
            }
        }
        String what = q == '"' ? "unterminated quoted identifier" : "unterminated quoted string";
        throw new AdminSqlException(SqlState.SYNTAX_ERROR, what + " at or near \"" + sql.substring(start) + "\"", null, start + 1);
    }
}
