package io.pgbailiff.adminsql;

/**
 * The cheap check run on every statement before anything else: could this be a session-control
 * statement? False positives only cost a parse; a false negative would forward an admin statement
 * to PostgreSQL, so every admin form must answer true. No regex, no allocation.
 */
public final class AdminSqlRecognizer {
    private AdminSqlRecognizer() {
    }

    /**
     * Whether any statement of a query string might be a session-control statement: the first, or
     * one after a semicolon (a semicolon inside a literal only costs a false positive).
     */
    public static boolean mightContainAdmin(String sql) {
        if (mightBeAdmin(sql, 0)) {
            return true;
        }
        for (int semicolon = sql.indexOf(';'); semicolon >= 0; semicolon = sql.indexOf(';', semicolon + 1)) {
            if (mightBeAdmin(sql, semicolon + 1)) {
                return true;
            }
        }
        return false;
    }

    public static boolean mightBeAdmin(CharSequence sql) {
        return mightBeAdmin(sql, 0);
    }

    private static boolean mightBeAdmin(CharSequence sql, int from) {
        int i = skipSpaceAndComments(sql, from);
        if (i < 0) {
            return false;
        }
        if (keywordAt(sql, i, "SHOW") || keywordAt(sql, i, "CANCEL")) {
            return true;
        }
        boolean selectLike = keywordAt(sql, i, "SELECT") || keywordAt(sql, i, "WITH") || keywordAt(sql, i, "FROM")
                || sql.charAt(i) == '(';
        return selectLike && mentionsAdminSource(sql, i);
    }

    /**
     * One pass over the text for what a SELECT over session-control data must contain: an
     * {@code md_} function (a word starting with it, so {@code cmd_id} is not one), a bracketed {@code [SHOW ...]} or parenthesised {@code (SHOW ...)}
     * source, or {@code SHOW SESSIONS / QUERIES / STATEMENTS}; case-insensitive, any whitespace
     * run matching one space.
     */
    private static boolean mentionsAdminSource(CharSequence s, int from) {
        int n = s.length();
        for (int i = from; i < n; i++) {
            switch (Character.toLowerCase(s.charAt(i))) {
                case 'm' -> {
                    if ((i == 0 || !isIdentChar(s.charAt(i - 1))) && matchesAt(s, i, "md_")) {
                        return true;
                    }
                }
                case 's' -> {
                    if (matchesAt(s, i, "show sessions") || matchesAt(s, i, "show queries")
                            || matchesAt(s, i, "show statements")) {
                        return true;
                    }
                }
                case '[', '(' -> {
                    if (matchesAt(s, i, "[show") || showFollows(s, i + 1)) {
                        return true;
                    }
                }
                default -> {
                }
            }
        }
        return false;
    }

    /** Index of the first character that is neither whitespace nor inside a comment, -1 at the end. */
    static int skipSpaceAndComments(CharSequence s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
                while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int depth = 0;
                while (i < n) {
                    if (s.charAt(i) == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                        depth++;
                        i += 2;
                    } else if (s.charAt(i) == '*' && i + 1 < n && s.charAt(i + 1) == '/') {
                        depth--;
                        i += 2;
                        if (depth == 0) {
                            break;
                        }
                    } else {
                        i++;
                    }
                }
            } else {
                return i;
            }
        }
        return -1;
    }

    private static boolean keywordAt(CharSequence s, int i, String upper) {
        int n = upper.length();
        if (i + n > s.length()) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (Character.toUpperCase(s.charAt(i + k)) != upper.charAt(k)) {
                return false;
            }
        }
        return i + n == s.length() || !isIdentChar(s.charAt(i + n));
    }

    static boolean isIdentChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    /** Whether a lowercase needle starts at {@code i}, case-insensitively; a space in it matches any whitespace run. */
    private static boolean matchesAt(CharSequence s, int i, String needle) {
        int n = s.length();
        for (int k = 0; k < needle.length(); k++) {
            char want = needle.charAt(k);
            if (i >= n) {
                return false;
            }
            if (want == ' ') {
                if (!Character.isWhitespace(s.charAt(i))) {
                    return false;
                }
                while (i < n && Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                continue;
            }
            if (Character.toLowerCase(s.charAt(i)) != want) {
                return false;
            }
            i++;
        }
        return true;
    }

    /** {@code SHOW} after optional whitespace, as in {@code WITH x AS (SHOW ALL SESSIONS)} or {@code [ SHOW SESSIONS]}. */
    private static boolean showFollows(CharSequence s, int j) {
        int n = s.length();
        while (j < n && Character.isWhitespace(s.charAt(j))) {
            j++;
        }
        return keywordAt(s, j, "SHOW");
    }
}
