package io.pgbailiff.adminsql;

import io.pgbailiff.protocol.SqlState;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.UUID;

/**
 * Comparison and conversion of values. A string meeting a typed value is read as that type,
 * as PostgreSQL does with an untyped literal ({@code client_connection_id = '2601e799-...'}).
 */
final class Values {
    private static final DateTimeFormatter TS_IN = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd[[ ]['T']HH:mm[:ss]]").optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .optionalEnd().optionalStart().appendOffset("+HH:mm", "Z").optionalEnd()
            .optionalStart().appendOffset("+HH", "Z").optionalEnd().toFormatter();

    private Values() {
    }

    static int compare(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return Long.compare(x.longValue(), y.longValue());
        }
        if (a instanceof String s && !(b instanceof String)) {
            return -compare(b, s);
        }
        if (a instanceof String x && b instanceof String y) {
            return x.compareTo(y);
        }
        Object bb = coerce(b, a);
        if (a instanceof Number x && bb instanceof Number y) {
            return Long.compare(x.longValue(), y.longValue());
        }
        if (a instanceof Comparable<?> && a.getClass() == bb.getClass()) {
            @SuppressWarnings("unchecked")
            Comparable<Object> c = (Comparable<Object>) a;
            return c.compareTo(bb);
        }
        throw new AdminSqlException(SqlState.UNDEFINED_FUNCTION, "operator does not exist: " + typeName(a) + " = " + typeName(b),
                "Compare values of the same type, or cast one side.", 0);
    }

    /** {@code value} read as the type of {@code like}, when it is a string. */
    static Object coerce(Object value, Object like) {
        if (!(value instanceof String s)) {
            if (value instanceof Number n && like instanceof Number) {
                return n.longValue();
            }
            return value;
        }
        if (like instanceof UUID) {
            return toUuid(s);
        }
        if (like instanceof PgInterval) {
            return PgInterval.parse(s);
        }
        if (like instanceof Instant) {
            return toInstant(s);
        }
        if (like instanceof Number) {
            return toLong(s);
        }
        if (like instanceof Boolean) {
            return toBool(s);
        }
        return s;
    }

    static String typeName(Object v) {
        if (v instanceof UUID) {
            return "uuid";
        }
        if (v instanceof PgInterval) {
            return "interval";
        }
        if (v instanceof Instant) {
            return "timestamp with time zone";
        }
        if (v instanceof Integer) {
            return "integer";
        }
        if (v instanceof Number) {
            return "bigint";
        }
        if (v instanceof Boolean) {
            return "boolean";
        }
        return "text";
    }

    static UUID toUuid(Object v) {
        if (v instanceof UUID u) {
            return u;
        }
        String s = v.toString();
        String t = s.trim().replace("-", "");
        if (t.startsWith("{") && t.endsWith("}")) {
            t = t.substring(1, t.length() - 1);
        }
        if (t.length() == 32 && t.chars().allMatch(c -> Character.digit(c, 16) >= 0) && (s.trim().length() == 32 || validHyphens(s.trim()))) {
            return new UUID(Long.parseUnsignedLong(t.substring(0, 16), 16), Long.parseUnsignedLong(t.substring(16), 16));
        }
        throw new AdminSqlException(SqlState.INVALID_TEXT_REPRESENTATION, "invalid input syntax for type uuid: \"" + s + "\"");
    }

    private static boolean validHyphens(String s) {
        if (s.startsWith("{") && s.endsWith("}")) {
            s = s.substring(1, s.length() - 1);
        }
        return s.length() == 36 && s.charAt(8) == '-' && s.charAt(13) == '-' && s.charAt(18) == '-' && s.charAt(23) == '-';
    }

    static long toLong(Object v) {
        if (v instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new AdminSqlException(SqlState.INVALID_TEXT_REPRESENTATION, "invalid input syntax for type bigint: \"" + v + "\"");
        }
    }

    static Boolean toBool(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "t", "true", "yes", "y", "on", "1":
                return true;
            case "f", "false", "no", "n", "off", "0":
                return false;
            default:
                throw new AdminSqlException(SqlState.INVALID_TEXT_REPRESENTATION, "invalid input syntax for type boolean: \"" + v + "\"");
        }
    }

    static Instant toInstant(Object v) {
        if (v instanceof Instant i) {
            return i;
        }
        String s = v.toString().trim();
        try {
            var parsed = TS_IN.parseBest(s, OffsetDateTime::from, java.time.LocalDateTime::from, java.time.LocalDate::from);
            if (parsed instanceof OffsetDateTime o) {
                return o.toInstant();
            }
            if (parsed instanceof java.time.LocalDateTime l) {
                return l.toInstant(java.time.ZoneOffset.UTC);
            }
            return ((java.time.LocalDate) parsed).atStartOfDay().toInstant(java.time.ZoneOffset.UTC);
        } catch (RuntimeException e) {
            throw new AdminSqlException(SqlState.INVALID_DATETIME_FORMAT,
                    "invalid input syntax for type timestamp with time zone: \"" + s + "\"");
        }
    }

    /** A value as text, as PostgreSQL's {@code ::text} would render it. */
    static String toText(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (v instanceof Instant i) {
            return PgType.timestamptz(i);
        }
        return v.toString();
    }
}
