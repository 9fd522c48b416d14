package io.pgbailiff.adminsql;

/**
 * A LIKE or ILIKE pattern: {@code %} any run of characters, {@code _} any one, a backslash makes
 * the next character literal. Matched by walking text and pattern together, going back only to
 * the latest {@code %}, so a match takes at most text length × pattern length steps. (A regular
 * expression with {@code .*} per {@code %} backtracks exponentially on patterns such as
 * {@code %a%a%a%a%a%a%a%a%b}, which any user can write.)
 */
final class LikePattern {
    private static final char LITERAL = 0;
    private static final char ANY_ONE = 1;
    private static final char ANY_RUN = 2;

    private final char[] kinds;
    private final char[] chars;
    private final boolean caseInsensitive;

    private LikePattern(char[] kinds, char[] chars, boolean caseInsensitive) {
        this.kinds = kinds;
        this.chars = chars;
        this.caseInsensitive = caseInsensitive;
    }

    static LikePattern compile(String like, boolean caseInsensitive) {
        char[] kinds = new char[like.length()];
        char[] chars = new char[like.length()];
        int n = 0;
        for (int i = 0; i < like.length(); i++) {
            char ch = like.charAt(i);
            if (ch == '\\' && i + 1 < like.length()) {
                kinds[n] = LITERAL;
                chars[n++] = fold(like.charAt(++i), caseInsensitive);
            } else if (ch == '%') {
                if (n == 0 || kinds[n - 1] != ANY_RUN) {
                    kinds[n++] = ANY_RUN;
                }
            } else if (ch == '_') {
                kinds[n++] = ANY_ONE;
            } else {
                kinds[n] = LITERAL;
                chars[n++] = fold(ch, caseInsensitive);
            }
        }
        return new LikePattern(java.util.Arrays.copyOf(kinds, n), java.util.Arrays.copyOf(chars, n), caseInsensitive);
    }

    boolean matches(String text) {
        int t = 0, p = 0, n = kinds.length;
        int lastRun = -1, resumeAt = 0;
        while (t < text.length()) {
            if (p < n && (kinds[p] == ANY_ONE || (kinds[p] == LITERAL && chars[p] == fold(text.charAt(t), caseInsensitive)))) {
                p++;
                t++;
            } else if (p < n && kinds[p] == ANY_RUN) {
                lastRun = p++;
                resumeAt = t;
            } else if (lastRun >= 0) {
                p = lastRun + 1;
                t = ++resumeAt;
            } else {
                return false;
            }
        }
        while (p < n && kinds[p] == ANY_RUN) {
            p++;
        }
        return p == n;
    }

    private static char fold(char c, boolean caseInsensitive) {
        return caseInsensitive ? Character.toLowerCase(Character.toUpperCase(c)) : c;
    }
}
