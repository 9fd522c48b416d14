package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.pgbailiff.protocol.Bytes.hex;
import static io.pgbailiff.protocol.Bytes.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden bytes for every encoder, written out from the message formats in the PostgreSQL
 * documentation (protocol-message-formats): type byte, Int32 length counting itself but not the
 * type byte, then the body. Lengths are counted by hand, not computed.
 */
@ExtendWith(LeakDetection.class)
class PgEncoderTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static void assertEncodes(byte[] expected, ByteBuf actual) {
        byte[] bytes;
        try {
            assertEquals(0, actual.readerIndex(), "encoder output starts at its reader index 0");
            bytes = Bytes.readable(actual);
        } finally {
            assertTrue(actual.release(), "encoder output is the only reference to its buffer");
        }
        assertEquals(hex(expected), hex(bytes));
    }

    @Test
    void encryptionResponseIsOneByteWithoutHeader() {
        assertEncodes(Bytes.hex("53"), PgEncoder.encryptionResponse(ALLOC, true));
        assertEncodes(Bytes.hex("4e"), PgEncoder.encryptionResponse(ALLOC, false));
    }

    @Test
    void errorResponseWithRequiredFieldsOnly() {
        assertEncodes(
                of('E', 32, 'S', "ERROR", 'V', "ERROR", 'C', "08P01", 'M', "boom", (byte) 0),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.PROTOCOL_VIOLATION, "boom")));
    }

    @Test
    void errorResponseByteForByte() {
        assertEncodes(
                Bytes.hex("45 00000020"
                        + " 53 4552524f5200" + " 56 4552524f5200" + " 43 3038503031 00" + " 4d 626f6f6d00" + " 00"),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.PROTOCOL_VIOLATION, "boom")));
    }

    @Test
    void fatalErrorResponse() {
        assertEncodes(
                of('E', 59, 'S', "FATAL", 'V', "FATAL", 'C', "53300", 'M', "sorry, too many clients already", (byte) 0),
                PgEncoder.errorResponse(ALLOC, PgError.fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already")));
    }

    @Test
    void errorResponseWithDetailHintAndPosition() {
        PgError error = PgError.error(SqlState.SYNTAX_ERROR, "bad").withDetail("dd").withHint("hh").withPosition(12);
        assertEncodes(
                of('E', 43, 'S', "ERROR", 'V', "ERROR", 'C', "42601", 'M', "bad", 'D', "dd", 'H', "hh", 'P', "12", (byte) 0),
                PgEncoder.errorResponse(ALLOC, error));
    }

    @Test
    void errorResponseWithDetailOnly() {
        assertEncodes(
                of('E', 34, 'S', "ERROR", 'V', "ERROR", 'C', "XX000", 'M', "x", 'D', "why", (byte) 0),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.INTERNAL_ERROR, "x").withDetail("why")));
    }

    @Test
    void errorResponseWithHintOnly() {
        assertEncodes(
                of('E', 34, 'S', "ERROR", 'V', "ERROR", 'C', "XX000", 'M', "x", 'H', "try", (byte) 0),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.INTERNAL_ERROR, "x").withHint("try")));
    }

    @Test
    void errorResponseWithPositionOnly() {
        assertEncodes(
                of('E', 32, 'S', "ERROR", 'V', "ERROR", 'C', "XX000", 'M', "x", 'P', "1", (byte) 0),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.INTERNAL_ERROR, "x").withPosition(1)));
    }

    @Test
    void errorResponseOmitsPositionZero() {
        assertEncodes(
                of('E', 29, 'S', "ERROR", 'V', "ERROR", 'C', "XX000", 'M', "x", (byte) 0),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.INTERNAL_ERROR, "x").withPosition(0)));
    }

    @Test
    void errorResponseCountsUtf8BytesNotChars() {
        assertEncodes(
                Bytes.hex("45 0000001e 53 4552524f5200 56 4552524f5200 43 5858303030 00 4d c3a9 00 00"),
                PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.INTERNAL_ERROR, "\u00e9")));
    }

    @Test
    void noticeResponse() {
        PgError notice = new PgError(PgError.Severity.NOTICE, SqlState.SUCCESSFUL_COMPLETION, "hi", null, null, 0);
        assertEncodes(
                of('N', 32, 'S', "NOTICE", 'V', "NOTICE", 'C', "00000", 'M', "hi", (byte) 0),
                PgEncoder.noticeResponse(ALLOC, notice));
    }

    @Test
    void noticeResponseWithDetailHintAndPosition() {
        PgError warning = new PgError(PgError.Severity.WARNING, SqlState.INVALID_PARAMETER_VALUE, "w", "d", "h", 3);
        assertEncodes(
                of('N', 42, 'S', "WARNING", 'V', "WARNING", 'C', "22023", 'M', "w", 'D', "d", 'H', "h", 'P', "3", (byte) 0),
                PgEncoder.noticeResponse(ALLOC, warning));
    }

    @Test
    void rowDescriptionWithTwoFields() {
        List<PgEncoder.Field> fields = List.of(
                new PgEncoder.Field("id", 16384, (short) 1, 23, (short) 4, -1, (short) 0),
                PgEncoder.Field.of("name", 25, (short) -1, (short) 1));
        assertEncodes(
                of('T', 50, (short) 2,
                        "id", 16384, (short) 1, 23, (short) 4, -1, (short) 0,
                        "name", 0, (short) 0, 25, (short) -1, -1, (short) 1),
                PgEncoder.rowDescription(ALLOC, fields));
    }

    @Test
    void rowDescriptionByteForByte() {
        assertEncodes(
                Bytes.hex("54 0000001a 0001 6100 00000000 0000 00000017 0004 ffffffff 0000"),
                PgEncoder.rowDescription(ALLOC, List.of(PgEncoder.Field.of("a", 23, (short) 4, (short) 0))));
    }

    @Test
    void rowDescriptionWithoutFields() {
        assertEncodes(Bytes.hex("54 00000006 0000"), PgEncoder.rowDescription(ALLOC, List.of()));
    }

    @Test
    void dataRowWithValueNullAndEmptyValue() {
        List<byte[]> values = new ArrayList<>(Arrays.asList(new byte[] {'1'}, null, new byte[0]));
        assertEncodes(
                Bytes.hex("44 00000013 0003 00000001 31 ffffffff 00000000"),
                PgEncoder.dataRow(ALLOC, values));
    }

    @Test
    void dataRowWithBinaryValue() {
        assertEncodes(
                of('D', 14, (short) 1, 4, Bytes.hex("0000002a")),
                PgEncoder.dataRow(ALLOC, List.<byte[]>of(Bytes.hex("0000002a"))));
    }

    @Test
    void dataRowWithoutColumns() {
        assertEncodes(Bytes.hex("44 00000006 0000"), PgEncoder.dataRow(ALLOC, List.of()));
    }

    @Test
    void commandComplete() {
        assertEncodes(of('C', 13, "SELECT 1"), PgEncoder.commandComplete(ALLOC, "SELECT 1"));
        assertEncodes(of('C', 15, "INSERT 0 5"), PgEncoder.commandComplete(ALLOC, "INSERT 0 5"));
    }

    @Test
    void authenticationSaslListsMechanismsThenAnEmptyString() {
        assertEncodes(hex("52 00000017 0000000a 5343 5241 4d2d 5348 412d 3235 3600 00"),
                PgEncoder.authenticationSasl(ALLOC, List.of("SCRAM-SHA-256")));
    }

    @Test
    void readyForQueryWithEachTransactionStatus() {
        assertEncodes(Bytes.hex("5a 00000005 49"), PgEncoder.readyForQuery(ALLOC, BackendMessage.ReadyForQuery.IDLE));
        assertEncodes(Bytes.hex("5a 00000005 54"), PgEncoder.readyForQuery(ALLOC, BackendMessage.ReadyForQuery.IN_TRANSACTION));
        assertEncodes(Bytes.hex("5a 00000005 45"), PgEncoder.readyForQuery(ALLOC, BackendMessage.ReadyForQuery.FAILED_TRANSACTION));
    }

    @Test
    void backendKeyDataWithFourByteKey() {
        assertEncodes(
                Bytes.hex("4b 0000000c 01020304 a1b2c3d4"),
                PgEncoder.backendKeyData(ALLOC, 0x01020304, Bytes.hex("a1b2c3d4")));
    }

    @Test
    void backendKeyDataWithThirtyTwoByteKey() {
        byte[] key = Bytes.sequence(32);
        assertEncodes(of('K', 40, 0x01020304, key), PgEncoder.backendKeyData(ALLOC, 0x01020304, key));
    }

    @Test
    void parameterStatus() {
        assertEncodes(of('S', 24, "server_version", "17.0"), PgEncoder.parameterStatus(ALLOC, "server_version", "17.0"));
        assertEncodes(of('S', 22, "application_name", ""), PgEncoder.parameterStatus(ALLOC, "application_name", ""));
    }

    @Test
    void parameterDescription() {
        assertEncodes(Bytes.hex("74 0000000e 0002 00000017 00000019"), PgEncoder.parameterDescription(ALLOC, new int[] {23, 25}));
        assertEncodes(Bytes.hex("74 00000006 0000"), PgEncoder.parameterDescription(ALLOC, new int[0]));
    }

    @Test
    void negotiateProtocolVersionCarriesTheFullVersionNumber() {
        assertEncodes(
                of('v', 30, 0x00030002, 2, "_pq_.foo", "_pq_.bar"),
                PgEncoder.negotiateProtocolVersion(ALLOC, StartupPacket.PROTOCOL_3_2, List.of("_pq_.foo", "_pq_.bar")));
        assertEncodes(
                Bytes.hex("76 0000000c 00030000 00000000"),
                PgEncoder.negotiateProtocolVersion(ALLOC, StartupPacket.PROTOCOL_3_0, List.of()));
    }

    @Test
    void messagesWithoutBody() {
        assertEncodes(Bytes.hex("31 00000004"), PgEncoder.parseComplete(ALLOC));
        assertEncodes(Bytes.hex("32 00000004"), PgEncoder.bindComplete(ALLOC));
        assertEncodes(Bytes.hex("33 00000004"), PgEncoder.closeComplete(ALLOC));
        assertEncodes(Bytes.hex("6e 00000004"), PgEncoder.noData(ALLOC));
        assertEncodes(Bytes.hex("73 00000004"), PgEncoder.portalSuspended(ALLOC));
        assertEncodes(Bytes.hex("49 00000004"), PgEncoder.emptyQueryResponse(ALLOC));
        assertEncodes(Bytes.hex("53 00000004"), PgEncoder.sync(ALLOC));
        assertEncodes(Bytes.hex("58 00000004"), PgEncoder.terminate(ALLOC));
    }

    @Test
    void startupMessageKeepsParameterOrder() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "db");
        assertEncodes(
                of(32, 0x00030000, "user", "alice", "database", "db", (byte) 0),
                PgEncoder.startupMessage(ALLOC, StartupPacket.PROTOCOL_3_0, params));
    }

    @Test
    void startupMessageForProtocol32WithProtocolOption() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "u");
        params.put("_pq_.x", "y");
        assertEncodes(
                Bytes.hex("00000019 00030002 7573657200 7500 5f70715f2e7800 7900 00"),
                PgEncoder.startupMessage(ALLOC, StartupPacket.PROTOCOL_3_2, params));
    }

    @Test
    void startupMessageWithoutParameters() {
        assertEncodes(Bytes.hex("00000009 00030000 00"), PgEncoder.startupMessage(ALLOC, StartupPacket.PROTOCOL_3_0, Map.of()));
    }

    @Test
    void cancelRequestWithFourByteKey() {
        assertEncodes(
                Bytes.hex("00000010 04d2162e 00003039 deadbeef"),
                PgEncoder.cancelRequest(ALLOC, 12345, Bytes.hex("deadbeef")));
    }

    @Test
    void cancelRequestWithThirtyTwoByteKey() {
        byte[] key = Bytes.sequence(32);
        assertEncodes(of(44, 0x04d2162e, 12345, key), PgEncoder.cancelRequest(ALLOC, 12345, key));
    }

    @Test
    void sslRequest() {
        assertEncodes(Bytes.hex("00000008 04d2162f"), PgEncoder.sslRequest(ALLOC));
    }

    @Test
    void query() {
        assertEncodes(Bytes.hex("51 0000000d 53454c4543542031 00"), PgEncoder.query(ALLOC, "SELECT 1"));
        assertEncodes(Bytes.hex("51 00000005 00"), PgEncoder.query(ALLOC, ""));
    }

    @Test
    void queryCountsUtf8BytesNotChars() {
        assertEncodes(of('Q', 16, "SELECT '\u00fc'"), PgEncoder.query(ALLOC, "SELECT '\u00fc'"));
    }

    @Test
    void multiByteStringsBeyondTheInitialCapacity() {
        String tag = "\u00e9".repeat(100);
        assertEncodes(of('C', 205, tag), PgEncoder.commandComplete(ALLOC, tag));
        String value = "\u00e4".repeat(300);
        assertEncodes(of('S', 607, "n", value), PgEncoder.parameterStatus(ALLOC, "n", value));
    }
}
