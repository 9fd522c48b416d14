package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The typed server messages the proxy reads from the backend, named as in the PostgreSQL
 * protocol documentation. DataRow, RowDescription, CopyData and the rest are never decoded.
 */
public sealed interface BackendMessage {
    byte AUTHENTICATION = 'R';
    byte BACKEND_KEY_DATA = 'K';
    byte PARAMETER_STATUS = 'S';
    byte READY_FOR_QUERY = 'Z';
    byte ERROR_RESPONSE = 'E';
    byte NOTICE_RESPONSE = 'N';
    byte COMMAND_COMPLETE = 'C';
    byte DATA_ROW = 'D';
    byte COPY_IN_RESPONSE = 'G';
    byte NOTIFICATION_RESPONSE = 'A';
    byte NEGOTIATE_PROTOCOL_VERSION = 'v';

    /** Authentication request codes (the first int32 of an {@code R} message). */
    int AUTH_OK = 0;
    int AUTH_CLEARTEXT_PASSWORD = 3;
    int AUTH_MD5_PASSWORD = 5;
    int AUTH_GSS = 7;
    int AUTH_SSPI = 9;
    int AUTH_SASL = 10;

    record Authentication(int code) implements BackendMessage {
        public static Authentication decode(PgMessage message) {
            return new Authentication(message.payload().readInt());
        }
    }

    /** AuthenticationSASL: the SASL mechanisms the server offers, in its order of preference. */
    record AuthenticationSasl(List<String> mechanisms) implements BackendMessage {
        public static AuthenticationSasl decode(PgMessage message) {
            ByteBuf p = message.payload();
            if (p.readInt() != AUTH_SASL) {
                throw new ProtocolException("not an AuthenticationSASL message");
            }
            List<String> mechanisms = new java.util.ArrayList<>();
            for (String m = FrontendMessage.Wire.readCString(p); !m.isEmpty(); m = FrontendMessage.Wire.readCString(p)) {
                mechanisms.add(m);
            }
            return new AuthenticationSasl(List.copyOf(mechanisms));
        }
    }

    record BackendKeyData(int processId, byte[] secretKey) implements BackendMessage {
        public static BackendKeyData decode(PgMessage message) {
            ByteBuf p = message.payload();
            int pid = p.readInt();
            byte[] key = new byte[p.readableBytes()];
            p.readBytes(key);
            return new BackendKeyData(pid, key);
        }
    }

    record ParameterStatus(String name, String value) implements BackendMessage {
        public static ParameterStatus decode(PgMessage message) {
            ByteBuf p = message.payload();
            String name = FrontendMessage.Wire.readCString(p);
            return new ParameterStatus(name, FrontendMessage.Wire.readCString(p));
        }

        /**
         * The value if the message reports parameter {@code name} (ASCII), otherwise null. A
         * backend sends a dozen of these at start-up and the proxy follows two of them, so the
         * others are compared in place rather than decoded, and so are relayed without being checked
         * for well-formed strings: they come from the backend, which pgbailiff trusts.
         */
        public static String valueIfNamed(PgMessage message, byte[] name) {
            ByteBuf c = message.payload();
            int start = c.readerIndex();
            int nameEnd = start + name.length;
            if (nameEnd >= c.writerIndex() || c.getByte(nameEnd) != 0) {
                return null;
            }
            for (int i = 0; i < name.length; i++) {
                if (c.getByte(start + i) != name[i]) {
                    return null;
                }
            }
            int valueEnd = c.indexOf(nameEnd + 1, c.writerIndex(), (byte) 0);
            if (valueEnd < 0) {
                throw new ProtocolException("invalid string in message");
            }
            return c.toString(nameEnd + 1, valueEnd - nameEnd - 1, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** ReadyForQuery with its transaction status: {@code 'I'} idle, {@code 'T'} in a block, {@code 'E'} failed block. */
    record ReadyForQuery(byte transactionStatus) implements BackendMessage {
        public static final byte IDLE = 'I';
        public static final byte IN_TRANSACTION = 'T';
        public static final byte FAILED_TRANSACTION = 'E';

        public static byte status(PgMessage message) {
            return message.payload().readByte();
        }
    }

    /** A DataRow read as text: one string per column, {@code null} for SQL NULL. */
    record DataRow(java.util.List<String> values) implements BackendMessage {
        public static DataRow decodeText(PgMessage message) {
            ByteBuf p = message.payload();
            int n = p.readUnsignedShort();
            java.util.List<String> values = new java.util.ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int len = p.readInt();
                if (len < 0) {
                    values.add(null);
                } else {
                    values.add(p.readCharSequence(len, java.nio.charset.StandardCharsets.UTF_8).toString());
                }
            }
            return new DataRow(values);
        }
    }

    record CommandComplete(String tag) implements BackendMessage {
        public static CommandComplete decode(PgMessage message) {
            return new CommandComplete(FrontendMessage.Wire.readCString(message.payload()));
        }
    }

    /**
     * ErrorResponse or NoticeResponse: fields keyed by their one-byte code
     * ({@code S} severity, {@code V} non-localised severity, {@code C} SQLSTATE, {@code M} message,
     * {@code D} detail, {@code H} hint, {@code P} position, ...).
     */
    record ErrorResponse(Map<Character, String> fields) implements BackendMessage {
        public static ErrorResponse decode(PgMessage message) {
            ByteBuf p = message.payload();
            Map<Character, String> fields = new LinkedHashMap<>();
            while (p.isReadable()) {
                byte code = p.readByte();
                if (code == 0) {
                    break;
                }
                fields.put((char) code, FrontendMessage.Wire.readCString(p));
            }
            return new ErrorResponse(fields);
        }

        /** The same error with one field added or replaced, e.g. a hint ('H'). */
        public ErrorResponse withField(char code, String value) {
            Map<Character, String> copy = new LinkedHashMap<>(fields);
            copy.put(code, value);
            return new ErrorResponse(copy);
        }

        public String severity() {
            return fields.getOrDefault('V', fields.get('S'));
        }

        public String sqlState() {
            return fields.get('C');
        }

        public String message() {
            return fields.get('M');
        }
    }
}
