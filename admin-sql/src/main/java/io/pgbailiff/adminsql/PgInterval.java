package io.pgbailiff.adminsql;

import java.util.Locale;

/**
 * A PostgreSQL interval: months, days and microseconds kept apart, as PostgreSQL does.
 * Ordering follows PostgreSQL's: a month counts 30 days, a day 24 hours.
 */
public record PgInterval(int months, int days, long micros) implements Comparable<PgInterval> {
    static final long MICROS_PER_SECOND = 1_000_000L;
    static final long MICROS_PER_MINUTE = 60 * MICROS_PER_SECOND;
    static final long MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE;
    static final long MICROS_PER_DAY = 24 * MICROS_PER_HOUR;

    public static PgInterval ofMicros(long micros) {
        return new PgInterval(0, 0, micros);
    }

    /** Like PostgreSQL's timestamp subtraction: whole 24-hour spans become days. */
    public static PgInterval between(java.time.Instant from, java.time.Instant to) {
        long micros = PgType.micros(to) - PgType.micros(from);
        return new PgInterval(0, (int) (micros / MICROS_PER_DAY), micros % MICROS_PER_DAY);
    }

    public long totalMicros() {
        return micros + days * MICROS_PER_DAY + months * 30L * MICROS_PER_DAY;
    }

    public PgInterval plus(PgInterval o) {
        return new PgInterval(months + o.months, days + o.days, micros + o.micros);
    }

    public PgInterval negate() {
        return new PgInterval(-months, -days, -micros);
    }

    @Override
    public int compareTo(PgInterval o) {
        return Long.compare(totalMicros(), o.totalMicros());
    }

    /**
     * Reads the interval forms people write: {@code 5 minutes}, {@code 1 day 02:00:00},
     * {@code 00:05:00.5}, {@code 2 hours 30 mins}, {@code 1h}, {@code -5 min}, {@code @ 1 hour ago}.
     */
    public static PgInterval parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("@")) {
            s = s.substring(1).trim();
        }
        boolean ago = false;
        if (s.endsWith(" ago")) {
            ago = true;
            s = s.substring(0, s.length() - 4).trim();
        }
        if (s.isEmpty()) {
            throw bad(text);
        }
        long months = 0, days = 0, micros = 0;
        int i = 0, n = s.length();
        while (i < n) {
            while (i < n && s.charAt(i) == ' ') {
                i++;
            }
            if (i >= n) {
                break;
            }
            int start = i;
            if (s.charAt(i) == '+' || s.charAt(i) == '-') {
                i++;
            }
            while (i < n && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.' || s.charAt(i) == ':')) {
                i++;
            }
            String num = s.substring(start, i);
            if (num.isEmpty() || num.equals("+") || num.equals("-")) {
                throw bad(text);
            }
            if (num.indexOf(':') >= 0) {
                micros += time(num, text);
                continue;
            }
            while (i < n && s.charAt(i) == ' ') {
                i++;
            }
            int us = i;
            while (i < n && Character.isLetter(s.charAt(i))) {
                i++;
            }
            String unit = s.substring(us, i);
            double v;
            try {
                v = Double.parseDouble(num);
            } catch (NumberFormatException e) {
                throw bad(text);
            }
            switch (unit) {
                case "", "s", "sec", "secs", "second", "seconds" -> micros += Math.round(v * MICROS_PER_SECOND);
                case "ms", "msec", "msecs", "millisecond", "milliseconds" -> micros += Math.round(v * 1000);
                case "us", "usec", "usecs", "microsecond", "microseconds" -> micros += Math.round(v);
                case "m", "min", "mins", "minute", "minutes" -> micros += Math.round(v * MICROS_PER_MINUTE);
                case "h", "hr", "hrs", "hour", "hours" -> micros += Math.round(v * MICROS_PER_HOUR);
                case "d", "day", "days" -> {
                    days += (long) v;
                    micros += Math.round((v - (long) v) * MICROS_PER_DAY);
                }
                case "w", "week", "weeks" -> days += Math.round(v * 7);
                case "mon", "mons", "month", "months" -> months += (long) v;
                case "y", "year", "years" -> months += Math.round(v * 12);
                default -> throw bad(text);
            }
        }
        PgInterval r = new PgInterval(Math.toIntExact(months), Math.toIntExact(days), micros);
        return ago ? r.negate() : r;
    }

    private static long time(String t, String text) {
        boolean neg = t.startsWith("-");
        if (neg || t.startsWith("+")) {
            t = t.substring(1);
        }
        String[] p = t.split(":", -1);
        try {
            long r;
            if (p.length == 2) {
                r = Long.parseLong(p[0]) * MICROS_PER_HOUR + Math.round(Double.parseDouble(p[1]) * MICROS_PER_MINUTE);
            } else if (p.length == 3) {
                r = Long.parseLong(p[0]) * MICROS_PER_HOUR + Long.parseLong(p[1]) * MICROS_PER_MINUTE
                        + Math.round(Double.parseDouble(p[2]) * MICROS_PER_SECOND);
            } else {
                throw bad(text);
            }
            return neg ? -r : r;
        } catch (NumberFormatException e) {
            throw bad(text);
        }
    }

    private static AdminSqlException bad(String text) {
        return new AdminSqlException(io.pgbailiff.protocol.SqlState.INVALID_TEXT_REPRESENTATION,
                "invalid input syntax for type interval: \"" + text + "\"");
    }

    /** PostgreSQL's output with {@code IntervalStyle = postgres}, e.g. {@code 1 day 02:00:00}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        boolean[] zeroBefore = {true, false};
        part(sb, months / 12, "year", zeroBefore);
        part(sb, months % 12, "mon", zeroBefore);
        part(sb, days, "day", zeroBefore);
        boolean isZero = zeroBefore[0], isBefore = zeroBefore[1];
        if (isZero || micros != 0) {
            boolean minus = micros < 0;
            long abs = Math.abs(micros);
            long hours = abs / MICROS_PER_HOUR;
            long mins = abs / MICROS_PER_MINUTE % 60;
            long secs = abs / MICROS_PER_SECOND % 60;
            long frac = abs % MICROS_PER_SECOND;
            if (!isZero) {
                sb.append(' ');
            }
            sb.append(minus ? "-" : isBefore ? "+" : "");
            sb.append(String.format("%02d:%02d:%02d", hours, mins, secs));
            PgType.appendFraction(sb, frac);
        }
        return sb.toString();
    }

    private static void part(StringBuilder sb, long value, String unit, boolean[] state) {
        if (value == 0) {
            return;
        }
        if (!state[0]) {
            sb.append(' ');
        }
        if (state[1] && value > 0) {
            sb.append('+');
        }
        sb.append(value).append(' ').append(unit);
        if (value != 1) {
            sb.append('s');
        }
        state[0] = false;
        state[1] = value < 0;
    }
}
