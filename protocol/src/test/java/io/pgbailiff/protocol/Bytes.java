package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Builds wire bytes by hand, independent of the code under test. Parts are written big-endian as
 * the protocol requires: {@link Character} and {@link Byte} as one byte, {@link Short} as Int16,
 * {@link Integer} as Int32, {@link String} as a NUL-terminated UTF-8 C string, {@code byte[]} verbatim.
 */
final class Bytes {
    private Bytes() {
    }

    static byte[] of(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof Character c) {
                out.write(c);
            } else if (part instanceof Byte b) {
                out.write(b);
            } else if (part instanceof Short s) {
                out.write(s >> 8);
                out.write(s);
            } else if (part instanceof Integer i) {
                out.write(i >> 24);
                out.write(i >> 16);
                out.write(i >> 8);
                out.write(i);
            } else if (part instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            } else if (part instanceof byte[] raw) {
                out.writeBytes(raw);
            } else {
                throw new IllegalArgumentException("cannot encode " + part);
            }
        }
        return out.toByteArray();
    }

    /** A typed message: the type byte, an Int32 length counting itself and the body, then the body. */
    static byte[] message(char type, Object... body) {
        byte[] payload = of(body);
        return of(type, 4 + payload.length, payload);
    }

    /** A startup-phase packet: an Int32 length counting itself, then the body. */
    static byte[] packet(Object... body) {
        byte[] payload = of(body);
        return of(4 + payload.length, payload);
    }

    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    static byte[] concat(byte[]... arrays) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] a : arrays) {
            out.writeBytes(a);
        }
        return out.toByteArray();
    }

    static byte[] repeat(int length, int value) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    static byte[] sequence(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 7 + 1);
        }
        return bytes;
    }

    /** Copies the readable bytes of an encoder's output and releases it. */
    static byte[] take(ByteBuf buf) {
        try {
            return readable(buf);
        } finally {
            buf.release();
        }
    }

    static byte[] readable(ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), bytes);
        return bytes;
    }
}
