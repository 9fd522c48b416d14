package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * The typed client messages the proxy reads, named as in the PostgreSQL protocol documentation.
 * They are decoded from a {@link PgMessage} only when the proxy needs their content; the frame
 * itself is what gets relayed.
 */
public sealed interface FrontendMessage {
    byte QUERY = 'Q';
    byte PARSE = 'P';
    byte BIND = 'B';
    byte DESCRIBE = 'D';
    byte EXECUTE = 'E';
    byte CLOSE = 'C';
    byte SYNC = 'S';
    byte FLUSH = 'H';
    byte TERMINATE = 'X';
    byte FUNCTION_CALL = 'F';
    byte COPY_DATA = 'd';
    byte COPY_DONE = 'c';
    byte COPY_FAIL = 'f';
    byte PASSWORD = 'p';

    record Query(String sql) implements FrontendMessage {
        public static Query decode(PgMessage message) {
            return new Query(Wire.readCString(message.payload()));
        }
    }

    /** Parse: statement name ("" is the unnamed statement), SQL text and parameter type OIDs. */
    record Parse(String statement, String sql, int[] parameterTypes) implements FrontendMessage {
        public static Parse decode(PgMessage message) {
            ByteBuf p = message.payload();
            String name = Wire.readCString(p);
            String sql = Wire.readCString(p);
            int n = p.readUnsignedShort();
            int[] types = new int[n];
            for (int i = 0; i < n; i++) {
                types[i] = p.readInt();
            }
            return new Parse(name, sql, types);
        }
    }

    /** The portal and statement names of a Bind; parameter values are left on the wire. */
    record Bind(String portal, String statement) implements FrontendMessage {
        public static Bind decode(PgMessage message) {
            ByteBuf p = message.payload();
            String portal = Wire.readCString(p);
            return new Bind(portal, Wire.readCString(p));
        }
    }

    /**
     * A Bind read in full: parameter format codes and values ({@code null} for SQL NULL) and the
     * result format codes. Format code lists follow the protocol: empty (all text), one code for
     * all, or one per parameter / column.
     */
    record BindValues(String portal, String statement, short[] parameterFormats, java.util.List<byte[]> values,
                      short[] resultFormats) implements FrontendMessage {
        public static BindValues decode(PgMessage message) {
            ByteBuf p = message.payload();
            String portal = Wire.readCString(p);
            String statement = Wire.readCString(p);
            short[] parameterFormats = readShorts(p);
            int n = p.readUnsignedShort();
            java.util.List<byte[]> values = new java.util.ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int len = p.readInt();
                if (len < 0) {
                    values.add(null);
                } else {
                    byte[] v = new byte[len];
                    p.readBytes(v);
                    values.add(v);
                }
            }
            return new BindValues(portal, statement, parameterFormats, values, readShorts(p));
        }

        private static short[] readShorts(ByteBuf p) {
            short[] codes = new short[p.readUnsignedShort()];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = p.readShort();
            }
            return codes;
        }

        public boolean binaryParameter(int index) {
            return parameterFormats.length != 0
                    && (parameterFormats.length == 1 ? parameterFormats[0] : parameterFormats[index]) == 1;
        }
    }

    record Execute(String portal, int maxRows) implements FrontendMessage {
        public static Execute decode(PgMessage message) {
            ByteBuf p = message.payload();
            String portal = Wire.readCString(p);
            return new Execute(portal, p.readInt());
        }
    }

    /** Close or Describe target: {@code 'S'} for a prepared statement, {@code 'P'} for a portal. */
    record Target(byte kind, String name) implements FrontendMessage {
        public static Target decode(PgMessage message) {
            ByteBuf p = message.payload();
            byte kind = p.readByte();
            return new Target(kind, Wire.readCString(p));
        }
    }

    /** Helpers for the C strings the protocol uses. */
    final class Wire {
        private Wire() {
        }

        public static String readCString(ByteBuf buf) {
            int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
            if (end < 0) {
                throw new ProtocolException("invalid string in message");
            }
            String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
            buf.readerIndex(end + 1);
            return s;
        }

        public static void writeCString(ByteBuf buf, String s) {
            buf.writeCharSequence(s, StandardCharsets.UTF_8);
            buf.writeByte(0);
        }
    }
}
