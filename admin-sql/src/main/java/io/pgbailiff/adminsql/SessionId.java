package io.pgbailiff.adminsql;

import java.util.Locale;

/**
 * A 128-bit session identifier, unique across nodes and restarts, laid out as CockroachDB's:
 * the high 64 bits are a time-ordered unique value (wall-clock nanoseconds), the low 32 bits the
 * node id. Shown as 32 lowercase hex characters ({@link #hex()}) or in UUID form ({@link #uuid()}).
 */
public record SessionId(long high, long low) implements Comparable<SessionId> {

    public String hex() {
        return hex(high, low);
    }

    /** 128 bits as 32 lowercase hex digits, the form session and query ids are shown in. */
    static String hex(long high, long low) {
        byte[] digits = new byte[32];
        putHex(digits, 0, high);
        putHex(digits, 16, low);
        return new String(digits, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

    private static void putHex(byte[] into, int at, long value) {
        for (int i = 15; i >= 0; i--, value >>>= 4) {
            into[at + i] = HEX_DIGITS[(int) (value & 0xf)];
        }
    }

    public String uuid() {
        String h = hex();
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
                + h.substring(16, 20) + "-" + h.substring(20);
    }

    public long nodeId() {
        return low & 0xffffffffL;
    }

    /**
     * Reads an id written in either form, any case.
     *
     * @throws IllegalArgumentException if the text is neither 32 hex digits nor a UUID
     */
    public static SessionId parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.length() == 36 && s.charAt(8) == '-' && s.charAt(13) == '-' && s.charAt(18) == '-' && s.charAt(23) == '-') {
            s = s.substring(0, 8) + s.substring(9, 13) + s.substring(14, 18) + s.substring(19, 23) + s.substring(24);
        }
        if (s.length() != 32) {
            throw new IllegalArgumentException("invalid session ID '" + text + "'");
        }
        for (int i = 0; i < 32; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                throw new IllegalArgumentException("invalid session ID '" + text + "'");
            }
        }
        return new SessionId(Long.parseUnsignedLong(s.substring(0, 16), 16), Long.parseUnsignedLong(s.substring(16), 16));
    }

    @Override
    public int compareTo(SessionId o) {
        int c = Long.compareUnsigned(high, o.high);
        return c != 0 ? c : Long.compareUnsigned(low, o.low);
    }

    @Override
    public String toString() {
        return hex();
    }
}
