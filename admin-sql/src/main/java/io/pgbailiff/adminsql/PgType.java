package io.pgbailiff.adminsql;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;

/**
 * The column types admin statements return, with PostgreSQL's OIDs and wire encodings.
 * Java values: BOOL {@link Boolean}, INT8/INT4 {@link Number}, TEXT {@link String},
 * UUID {@link UUID}, TIMESTAMPTZ {@link Instant}, INTERVAL {@link PgInterval}.
 * Text output is PostgreSQL's with {@code DateStyle = ISO}, {@code TimeZone = UTC}.
 */
public enum PgType {
    BOOL(16, 1),
    INT8(20, 8),
    INT4(23, 4),
    TEXT(25, -1),
    UUID(2950, 16),
    TIMESTAMPTZ(1184, 8),
    INTERVAL(1186, 16);

    /** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since 1970. */
    static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private final int oid;
    private final int size;

    PgType(int oid, int size) {
        this.oid = oid;
        this.size = size;
    }

    public int oid() {
        return oid;
    }

    /** The typlen sent in RowDescription: -1 for variable length. */
    public int size() {
        return size;
    }

    /** Text-format bytes of a non-null value. */
    public byte[] text(Object value) {
        return textString(value).getBytes(StandardCharsets.UTF_8);
    }

    public String textString(Object value) {
        StringBuilder sb = new StringBuilder();
        appendText(sb, value);
        return sb.toString();
    }

    /** Appends the text format of a non-null value; what a result encoder uses, without a String per value. */
    public void appendText(StringBuilder sb, Object value) {
        switch (this) {
            case BOOL -> sb.append(((Boolean) value) ? 't' : 'f');
            case INT8, INT4 -> sb.append(((Number) value).longValue());
            case TEXT, INTERVAL -> sb.append(value);
            case UUID -> sb.append(value.toString().toLowerCase(java.util.Locale.ROOT));
            case TIMESTAMPTZ -> appendTimestamptz(sb, (Instant) value);
        }
    }

    /** Binary-format bytes of a non-null value. */
    public byte[] binary(Object value) {
        return switch (this) {
            case BOOL -> new byte[] {(byte) (((Boolean) value) ? 1 : 0)};
            case INT8 -> ByteBuffer.allocate(8).putLong(((Number) value).longValue()).array();
            case INT4 -> ByteBuffer.allocate(4).putInt(((Number) value).intValue()).array();
            case TEXT -> value.toString().getBytes(StandardCharsets.UTF_8);
            case UUID -> {
                UUID u = value instanceof UUID x ? x : java.util.UUID.fromString(value.toString());
                yield ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
            }
            case TIMESTAMPTZ -> ByteBuffer.allocate(8).putLong(micros((Instant) value) - PG_EPOCH_MICROS).array();
            case INTERVAL -> {
                PgInterval i = (PgInterval) value;
                yield ByteBuffer.allocate(16).putLong(i.micros()).putInt(i.days()).putInt(i.months()).array();
            }
        };
    }

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }

    static Instant fromMicros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    static String timestamptz(Instant t) {
        StringBuilder sb = new StringBuilder(32);
        appendTimestamptz(sb, t);
        return sb.toString();
    }

    /** {@code yyyy-MM-dd HH:mm:ss[.ffffff]+00}: PostgreSQL's ISO output in UTC, microsecond precision. */
    static void appendTimestamptz(StringBuilder sb, Instant t) {
        long micros = micros(t);
        long seconds = Math.floorDiv(micros, 1_000_000L);
        long days = Math.floorDiv(seconds, 86_400L);
        int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
        LocalDate date = LocalDate.ofEpochDay(days);
        int year = date.getYear();
        if (year < 0 || year > 9999) {
            sb.append(TS.format(Instant.ofEpochSecond(seconds)));
        } else {
            appendPadded(sb, year, 4).append('-');
            appendPadded(sb, date.getMonthValue(), 2).append('-');
            appendPadded(sb, date.getDayOfMonth(), 2).append(' ');
            appendPadded(sb, secondOfDay / 3600, 2).append(':');
            appendPadded(sb, secondOfDay / 60 % 60, 2).append(':');
            appendPadded(sb, secondOfDay % 60, 2);
        }
        appendFraction(sb, Math.floorMod(micros, 1_000_000L));
        sb.append("+00");
    }

    private static StringBuilder appendPadded(StringBuilder sb, int value, int width) {
        for (int limit = 10; width > 1; width--, limit *= 10) {
            if (value < limit) {
                sb.append('0');
            }
        }
        return sb.append(value);
    }

    /** Appends {@code .ffffff} with trailing zeros removed, nothing when zero (PostgreSQL's style). */
    static void appendFraction(StringBuilder sb, long micros) {
        if (micros == 0) {
            return;
        }
        int digits = 6;
        while (micros % 10 == 0) {
            micros /= 10;
            digits--;
        }
        sb.append('.');
        for (long scale = pow10(digits - 1); scale > micros && scale > 1; scale /= 10) {
            sb.append('0');
        }
        sb.append(micros);
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
