package io.pgbailiff.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgbailiff.adminsql.AdminResult;
import io.pgbailiff.adminsql.AdminSqlException;
import io.pgbailiff.adminsql.Column;
import io.pgbailiff.protocol.DataRowWriter;
import io.pgbailiff.protocol.PgEncoder;
import io.pgbailiff.protocol.PgError;

import java.util.ArrayList;
import java.util.List;

/** Encodes what a session-control statement returned as the backend would send a query result. */
final class LocalResults {
    /** About one SHOW SESSIONS row, so that a result of many rows is not copied over and over as its buffer grows. */
    private static final int ESTIMATED_ROW_BYTES = 256;

    private LocalResults() {
    }

    /**
     * RowDescription (if the statement returns rows and {@code describe} is not false), the
     * DataRows and CommandComplete, in one buffer.
     *
     * @param formats result format codes as in Bind (empty or one code for all, or one per column); null for text
     */
    static ByteBuf encode(ByteBufAllocator alloc, AdminResult result, short[] formats) {
        ByteBuf out = alloc.buffer(256 + ESTIMATED_ROW_BYTES * result.rows().size());
        try {
            writeResult(alloc, out, result, formats);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    private static void writeResult(ByteBufAllocator alloc, ByteBuf out, AdminResult result, short[] formats) {
        List<Column> columns = result.columns();
        if (!columns.isEmpty() && formats == null) {
            writeAndRelease(out, rowDescription(alloc, columns, null));
        }
        StringBuilder text = new StringBuilder(64);
        DataRowWriter dataRow = new DataRowWriter();
        for (List<Object> row : result.rows()) {
            dataRow.begin(row.size());
            for (int i = 0; i < row.size(); i++) {
                Object v = row.get(i);
                Column c = columns.get(i);
                if (v == null) {
                    dataRow.nullValue();
                } else if (binary(formats, i)) {
                    dataRow.binaryValue(c.type().binary(v));
                } else if (v instanceof String string) {
                    dataRow.textValue(string);
                } else {
                    text.setLength(0);
                    c.type().appendText(text, v);
                    dataRow.textValue(text);
                }
            }
            dataRow.end(out);
        }
        writeAndRelease(out, PgEncoder.commandComplete(alloc, result.commandTag()));
    }

    static ByteBuf rowDescription(ByteBufAllocator alloc, List<Column> columns, short[] formats) {
        List<PgEncoder.Field> fields = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            fields.add(PgEncoder.Field.of(c.name(), c.type().oid(), (short) c.type().size(), (short) (binary(formats, i) ? 1 : 0)));
        }
        return PgEncoder.rowDescription(alloc, fields);
    }

    private static boolean binary(short[] formats, int column) {
        if (formats == null || formats.length == 0) {
            return false;
        }
        return (formats.length == 1 ? formats[0] : formats[column]) == 1;
    }

    private static void writeAndRelease(ByteBuf out, ByteBuf part) {
        out.writeBytes(part);
        part.release();
    }

    /** A parameter sent in binary, as the text the evaluator takes: uuid and integers decoded, the rest as UTF-8. */
    static String binaryParameter(int typeOid, byte[] value) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(value);
        if (typeOid == io.pgbailiff.adminsql.PgType.UUID.oid() && value.length == 16) {
            return new java.util.UUID(b.getLong(), b.getLong()).toString();
        }
        if (typeOid == io.pgbailiff.adminsql.PgType.INT8.oid() && value.length == 8) {
            return Long.toString(b.getLong());
        }
        if (typeOid == io.pgbailiff.adminsql.PgType.INT4.oid() && value.length == 4) {
            return Integer.toString(b.getInt());
        }
        return new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    static PgError error(AdminSqlException e) {
        return new PgError(PgError.Severity.ERROR, e.state(), e.getMessage(), null, e.hint(), e.position());
    }
}
