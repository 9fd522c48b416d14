package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static io.pgbailiff.protocol.FrontendMessage.Wire.writeCString;

/**
 * Encoders for every message pgbailiff writes itself. Each typed message is written as type
 * byte, a length placeholder, the body, then the length patched in.
 */
public final class PgEncoder {
    private PgEncoder() {
    }

    /** A column of a RowDescription. {@code format} is 0 for text, 1 for binary. */
    public record Field(String name, int tableOid, short columnNumber, int typeOid, short typeSize, int typeModifier, short format) {
        public static Field of(String name, int typeOid, short typeSize, short format) {
            return new Field(name, 0, (short) 0, typeOid, typeSize, -1, format);
        }
    }

    private static int begin(ByteBuf buf, char type) {
        buf.writeByte(type);
        int lengthIndex = buf.writerIndex();
        buf.writeInt(0);
        return lengthIndex;
    }

    private static ByteBuf end(ByteBuf buf, int lengthIndex) {
        buf.setInt(lengthIndex, buf.writerIndex() - lengthIndex);
        return buf;
    }

    private static ByteBuf empty(ByteBufAllocator alloc, char type) {
        return alloc.buffer(5).writeByte(type).writeInt(4);
    }

    /** The one-byte answer to SSLRequest or GSSENCRequest: {@code 'S'} to go on with TLS, {@code 'N'} to decline. */
    public static ByteBuf encryptionResponse(ByteBufAllocator alloc, boolean accept) {
        return alloc.buffer(1).writeByte(accept ? 'S' : 'N');
    }

    public static ByteBuf errorResponse(ByteBufAllocator alloc, PgError error) {
        return writeNotice(alloc, 'E', error);
    }

    /** An ErrorResponse as the backend sent it, field by field. */
    public static ByteBuf errorResponse(ByteBufAllocator alloc, BackendMessage.ErrorResponse error) {
        ByteBuf buf = alloc.buffer(128);
        int len = begin(buf, 'E');
        error.fields().forEach((code, value) -> {
            buf.writeByte(code);
            writeCString(buf, value);
        });
        buf.writeByte(0);
        return end(buf, len);
    }

    public static ByteBuf noticeResponse(ByteBufAllocator alloc, PgError notice) {
        return writeNotice(alloc, 'N', notice);
    }

    private static ByteBuf writeNotice(ByteBufAllocator alloc, char type, PgError e) {
        ByteBuf buf = alloc.buffer(64 + e.message().length());
        int len = begin(buf, type);
        String severity = e.severity().name();
        field(buf, 'S', severity);
        field(buf, 'V', severity);
        field(buf, 'C', e.sqlState().code());
        field(buf, 'M', e.message());
        if (e.detail() != null) {
            field(buf, 'D', e.detail());
        }
        if (e.hint() != null) {
            field(buf, 'H', e.hint());
        }
        if (e.position() > 0) {
            field(buf, 'P', Integer.toString(e.position()));
        }
        buf.writeByte(0);
        return end(buf, len);
    }

    private static void field(ByteBuf buf, char code, String value) {
        buf.writeByte(code);
        writeCString(buf, value);
    }

    public static ByteBuf rowDescription(ByteBufAllocator alloc, List<Field> fields) {
        ByteBuf buf = alloc.buffer(7 + fields.size() * 32);
        int len = begin(buf, 'T');
        buf.writeShort(fields.size());
        for (Field f : fields) {
            writeCString(buf, f.name());
            buf.writeInt(f.tableOid());
            buf.writeShort(f.columnNumber());
            buf.writeInt(f.typeOid());
            buf.writeShort(f.typeSize());
            buf.writeInt(f.typeModifier());
            buf.writeShort(f.format());
        }
        return end(buf, len);
    }

    /** DataRow; a {@code null} element is SQL NULL, other elements are already in their wire format. */
    public static ByteBuf dataRow(ByteBufAllocator alloc, List<byte[]> values) {
        int size = 7;
        for (byte[] v : values) {
            size += 4 + (v == null ? 0 : v.length);
        }
        ByteBuf buf = alloc.buffer(size);
        int len = begin(buf, 'D');
        buf.writeShort(values.size());
        for (byte[] v : values) {
            if (v == null) {
                buf.writeInt(-1);
            } else {
                buf.writeInt(v.length).writeBytes(v);
            }
        }
        return end(buf, len);
    }

    public static ByteBuf commandComplete(ByteBufAllocator alloc, String tag) {
        ByteBuf buf = alloc.buffer(6 + tag.length());
        int len = begin(buf, 'C');
        writeCString(buf, tag);
        return end(buf, len);
    }

    public static ByteBuf readyForQuery(ByteBufAllocator alloc, byte transactionStatus) {
        return alloc.buffer(6).writeByte('Z').writeInt(5).writeByte(transactionStatus);
    }

    public static ByteBuf authenticationSasl(ByteBufAllocator alloc, List<String> mechanisms) {
        ByteBuf buf = alloc.buffer(64);
        int len = begin(buf, 'R');
        buf.writeInt(BackendMessage.AUTH_SASL);
        for (String m : mechanisms) {
            writeCString(buf, m);
        }
        buf.writeByte(0);
        return end(buf, len);
    }

    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int processId, byte[] secretKey) {
        ByteBuf buf = alloc.buffer(9 + secretKey.length);
        int len = begin(buf, 'K');
        buf.writeInt(processId).writeBytes(secretKey);
        return end(buf, len);
    }

    public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
        ByteBuf buf = alloc.buffer(7 + name.length() + value.length());
        int len = begin(buf, 'S');
        writeCString(buf, name);
        writeCString(buf, value);
        return end(buf, len);
    }

    public static ByteBuf parameterDescription(ByteBufAllocator alloc, int[] typeOids) {
        ByteBuf buf = alloc.buffer(7 + 4 * typeOids.length);
        int len = begin(buf, 't');
        buf.writeShort(typeOids.length);
        for (int oid : typeOids) {
            buf.writeInt(oid);
        }
        return end(buf, len);
    }

    /** NegotiateProtocolVersion: the newest protocol version supported (as PostgreSQL sends it, e.g. 196608 for 3.0) and the protocol options not recognised. */
    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, int newestVersion, List<String> unrecognisedOptions) {
        ByteBuf buf = alloc.buffer(13 + unrecognisedOptions.size() * 16);
        int len = begin(buf, 'v');
        buf.writeInt(newestVersion).writeInt(unrecognisedOptions.size());
        for (String o : unrecognisedOptions) {
            writeCString(buf, o);
        }
        return end(buf, len);
    }

    public static ByteBuf emptyQueryResponse(ByteBufAllocator alloc) {
        return empty(alloc, 'I');
    }

    public static ByteBuf parseComplete(ByteBufAllocator alloc) {
        return empty(alloc, '1');
    }

    public static ByteBuf bindComplete(ByteBufAllocator alloc) {
        return empty(alloc, '2');
    }

    public static ByteBuf closeComplete(ByteBufAllocator alloc) {
        return empty(alloc, '3');
    }

    public static ByteBuf noData(ByteBufAllocator alloc) {
        return empty(alloc, 'n');
    }

    public static ByteBuf portalSuspended(ByteBufAllocator alloc) {
        return empty(alloc, 's');
    }

    // ---- frontend messages pgbailiff sends to the backend itself ----

    public static ByteBuf startupMessage(ByteBufAllocator alloc, int protocolVersion, Map<String, String> parameters) {
        ByteBuf buf = alloc.buffer(64);
        int lengthIndex = buf.writerIndex();
        buf.writeInt(0).writeInt(protocolVersion);
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            writeCString(buf, p.getKey());
            writeCString(buf, p.getValue());
        }
        buf.writeByte(0);
        buf.setInt(lengthIndex, buf.writerIndex() - lengthIndex);
        return buf;
    }

    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int processId, byte[] secretKey) {
        return alloc.buffer(12 + secretKey.length)
                .writeInt(12 + secretKey.length)
                .writeInt(StartupPacket.CANCEL_REQUEST_CODE)
                .writeInt(processId)
                .writeBytes(secretKey);
    }

    public static ByteBuf sslRequest(ByteBufAllocator alloc) {
        return alloc.buffer(8).writeInt(8).writeInt(StartupPacket.SSL_REQUEST_CODE);
    }

    public static ByteBuf query(ByteBufAllocator alloc, String sql) {
        ByteBuf buf = alloc.buffer(6 + sql.length());
        int len = begin(buf, 'Q');
        buf.writeCharSequence(sql, StandardCharsets.UTF_8);
        buf.writeByte(0);
        return end(buf, len);
    }

    public static ByteBuf sync(ByteBufAllocator alloc) {
        return empty(alloc, 'S');
    }

    public static ByteBuf terminate(ByteBufAllocator alloc) {
        return empty(alloc, 'X');
    }
}
