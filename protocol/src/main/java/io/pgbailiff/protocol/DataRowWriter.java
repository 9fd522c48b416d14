package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * Builds DataRow messages one at a time in a reusable heap array and appends each finished row to
 * the result buffer with one write. A result of a thousand rows has some fifteen thousand values;
 * writing each one to a {@link ByteBuf} directly paid the buffer's bounds and liveness checks on
 * every length word and every character.
 *
 * <p>Text values are encoded as UTF-8 the way {@link String#getBytes} does: an unpaired
 * surrogate becomes {@code '?'}.
 */
public final class DataRowWriter {
    /** The largest array the JVM reliably allocates; PostgreSQL's own limit for a row is 1 GB. */
    private static final int MAX_ROW_BYTES = Integer.MAX_VALUE - 8;

    private byte[] row = new byte[512];
    private char[] chars = new char[128];
    private int length;

    /** Starts a row of {@code columns} values, discarding any row not ended. */
    public void begin(int columns) {
        length = 0;
        ensure(7);
        row[length++] = 'D';
        length += 4;
        putShort(columns);
    }

    public void nullValue() {
        ensure(4);
        putInt(length, -1);
        length += 4;
    }

    public void binaryValue(byte[] value) {
        ensure(4 + value.length);
        putInt(length, value.length);
        System.arraycopy(value, 0, row, length + 4, value.length);
        length += 4 + value.length;
    }

    public void textValue(CharSequence text) {
        int n = text.length();
        char[] cs = chars(text, n);
        ensure(4 + 3L * n);
        int lengthAt = length;
        int at = length + 4;
        byte[] b = row;
        for (int i = 0; i < n; i++) {
            char c = cs[i];
            if (c < 0x80) {
                b[at++] = (byte) c;
            } else if (c < 0x800) {
                b[at++] = (byte) (0xc0 | c >> 6);
                b[at++] = (byte) (0x80 | c & 0x3f);
            } else if (!Character.isSurrogate(c)) {
                at = putThreeBytes(b, at, c);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(cs[i + 1])) {
                int cp = Character.toCodePoint(c, cs[++i]);
                b[at++] = (byte) (0xf0 | cp >> 18);
                b[at++] = (byte) (0x80 | cp >> 12 & 0x3f);
                b[at++] = (byte) (0x80 | cp >> 6 & 0x3f);
                b[at++] = (byte) (0x80 | cp & 0x3f);
            } else {
                b[at++] = '?';
            }
        }
        putInt(lengthAt, at - lengthAt - 4);
        length = at;
    }

    /**
     * The characters of {@code text} in a reusable array. Copying them out first keeps the
     * encoding loop on an array; calling {@link CharSequence#charAt} per character through an
     * interface that sees both strings and builders cost more than the encoding itself.
     */
    private char[] chars(CharSequence text, int n) {
        if (chars.length < n) {
            chars = new char[Math.max(n, chars.length * 2)];
        }
        if (text instanceof String s) {
            s.getChars(0, n, chars, 0);
        } else if (text instanceof StringBuilder sb) {
            sb.getChars(0, n, chars, 0);
        } else {
            for (int i = 0; i < n; i++) {
                chars[i] = text.charAt(i);
            }
        }
        return chars;
    }

    /** Sets the row's length and appends it to {@code out}. */
    public void end(ByteBuf out) {
        putInt(1, length - 1);
        out.writeBytes(row, 0, length);
    }

    private static int putThreeBytes(byte[] b, int at, char c) {
        b[at] = (byte) (0xe0 | c >> 12);
        b[at + 1] = (byte) (0x80 | c >> 6 & 0x3f);
        b[at + 2] = (byte) (0x80 | c & 0x3f);
        return at + 3;
    }

    private void ensure(long more) {
        long needed = length + more;
        if (needed > row.length) {
            if (needed > MAX_ROW_BYTES) {
                throw new IllegalArgumentException("a DataRow of more than " + MAX_ROW_BYTES + " bytes");
            }
            row = Arrays.copyOf(row, (int) Math.min(MAX_ROW_BYTES, Math.max(2L * row.length, needed)));
        }
    }

    private void putShort(int v) {
        row[length++] = (byte) (v >> 8);
        row[length++] = (byte) v;
    }

    private void putInt(int at, int v) {
        row[at] = (byte) (v >> 24);
        row[at + 1] = (byte) (v >> 16);
        row[at + 2] = (byte) (v >> 8);
        row[at + 3] = (byte) v;
    }
}
