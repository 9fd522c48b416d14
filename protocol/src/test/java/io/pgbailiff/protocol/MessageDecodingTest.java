package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static io.pgbailiff.protocol.Bytes.concat;
import static io.pgbailiff.protocol.Bytes.message;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Frames taken from a real decoder, built by hand or with {@link PgEncoder}, decoded into messages. */
@ExtendWith(LeakDetection.class)
class MessageDecodingTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Runs the message through a client decoder after a StartupMessage and decodes the frame it yields. */
    private static <T> T fromClient(byte[] message, Function<PgFrame, T> decode) {
        try (DecoderHarness h = DecoderHarness.client(FrameInterest.allExcept())) {
            h.channel().writeInbound(h.input(concat(Messages.STARTUP_3_0, message)));
            assertInstanceOf(StartupPacket.StartupMessage.class, h.channel().readInbound());
            return decodeOnce(h.channel().readInbound(), message, decode);
        }
    }

    private static <T> T fromBackend(byte[] message, Function<PgFrame, T> decode) {
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.allExcept())) {
            h.channel().writeInbound(h.input(message));
            return decodeOnce(h.channel().readInbound(), message, decode);
        }
    }

    private static <T> T fromBackend(ByteBuf encoded, Function<PgFrame, T> decode) {
        return fromBackend(Bytes.take(encoded), decode);
    }

    private static <T> T decodeOnce(Object output, byte[] message, Function<PgFrame, T> decode) {
        PgFrame frame = assertInstanceOf(PgFrame.class, output);
        try {
            assertEquals(message[0], frame.type());
            int readerIndex = frame.content().readerIndex();
            T decoded = decode.apply(frame);
            assertEquals(readerIndex, frame.content().readerIndex(), "decoding must not consume the frame");
            assertEquals(Bytes.hex(message), Bytes.hex(Bytes.readable(frame.content())), "decoding must not alter the frame");
            return decoded;
        } finally {
            frame.release();
        }
    }

    @Test
    void query() {
        assertEquals(new FrontendMessage.Query("SELECT 1"), fromClient(Bytes.take(PgEncoder.query(ALLOC, "SELECT 1")), FrontendMessage.Query::decode));
        assertEquals(new FrontendMessage.Query(""), fromClient(message('Q', ""), FrontendMessage.Query::decode));
        assertEquals(new FrontendMessage.Query("SELECT '\u00fc\u65e5'"),
                fromClient(message('Q', "SELECT '\u00fc\u65e5'"), FrontendMessage.Query::decode));
    }

    @Test
    void queryWithoutTerminatorIsAProtocolViolation() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> fromClient(message('Q', Messages.ascii("SELECT 1")), FrontendMessage.Query::decode));
        assertEquals(SqlState.PROTOCOL_VIOLATION, e.sqlState());
        assertEquals("invalid string in message", e.getMessage());
    }

    @Test
    void parseWithNamedStatementAndParameterTypes() {
        FrontendMessage.Parse p = fromClient(message('P', "s1", "SELECT $1::int, $2::text", (short) 2, 23, 25),
                FrontendMessage.Parse::decode);
        assertEquals("s1", p.statement());
        assertEquals("SELECT $1::int, $2::text", p.sql());
        assertArrayEquals(new int[] {23, 25}, p.parameterTypes());
    }

    @Test
    void parseOfUnnamedStatementWithoutParameterTypes() {
        FrontendMessage.Parse p = fromClient(message('P', "", "BEGIN", (short) 0), FrontendMessage.Parse::decode);
        assertEquals("", p.statement());
        assertEquals("BEGIN", p.sql());
        assertArrayEquals(new int[0], p.parameterTypes());
    }

    @Test
    void parseKeepsUnspecifiedAndLargeOids() {
        FrontendMessage.Parse p = fromClient(message('P', "", "SELECT $1, $2", (short) 2, 0, 0xfffffffe), FrontendMessage.Parse::decode);
        assertArrayEquals(new int[] {0, 0xfffffffe}, p.parameterTypes());
    }

    @Test
    void bindNamesAreReadAndParametersLeftOnTheWire() {
        byte[] bind = message('B', "p1", "s1", (short) 1, (short) 0, (short) 2, 2, Messages.ascii("42"), -1, (short) 1, (short) 1);
        assertEquals(new FrontendMessage.Bind("p1", "s1"), fromClient(bind, FrontendMessage.Bind::decode));
        assertEquals(new FrontendMessage.Bind("", ""),
                fromClient(message('B', "", "", (short) 0, (short) 0, (short) 0), FrontendMessage.Bind::decode));
    }

    @Test
    void execute() {
        assertEquals(new FrontendMessage.Execute("p1", 100), fromClient(message('E', "p1", 100), FrontendMessage.Execute::decode));
        assertEquals(new FrontendMessage.Execute("", 0), fromClient(message('E', "", 0), FrontendMessage.Execute::decode));
    }

    @Test
    void describeAndCloseTargets() {
        assertEquals(new FrontendMessage.Target((byte) 'S', "s1"), fromClient(message('D', 'S', "s1"), FrontendMessage.Target::decode));
        assertEquals(new FrontendMessage.Target((byte) 'P', ""), fromClient(message('D', 'P', ""), FrontendMessage.Target::decode));
        assertEquals(new FrontendMessage.Target((byte) 'P', "p1"), fromClient(message('C', 'P', "p1"), FrontendMessage.Target::decode));
        assertEquals(new FrontendMessage.Target((byte) 'S', "s1"), fromClient(message('C', 'S', "s1"), FrontendMessage.Target::decode));
    }

    @Test
    void authenticationRequests() {
        assertEquals(new BackendMessage.Authentication(BackendMessage.AUTH_OK),
                fromBackend(message('R', 0), BackendMessage.Authentication::decode));
        assertEquals(new BackendMessage.Authentication(BackendMessage.AUTH_CLEARTEXT_PASSWORD),
                fromBackend(message('R', 3), BackendMessage.Authentication::decode));
        assertEquals(new BackendMessage.Authentication(BackendMessage.AUTH_MD5_PASSWORD),
                fromBackend(message('R', 5, Bytes.hex("01020304")), BackendMessage.Authentication::decode));
        assertEquals(new BackendMessage.Authentication(BackendMessage.AUTH_SASL),
                fromBackend(message('R', 10, "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", (byte) 0), BackendMessage.Authentication::decode));
    }

    @Test
    void errorResponseWithAHintAddedKeepsEveryOtherField() {
        BackendMessage.ErrorResponse original = fromBackend(message('E', (byte) 'S', "FATAL", (byte) 'C', "08P01",
                (byte) 'M', "SCRAM channel binding check failed", (byte) 'R', "CheckSCRAMAuth", (byte) 0),
                BackendMessage.ErrorResponse::decode);
        BackendMessage.ErrorResponse hinted = fromBackend(PgEncoder.errorResponse(ALLOC, original.withField('H', "do this")),
                BackendMessage.ErrorResponse::decode);
        assertEquals("FATAL", hinted.severity());
        assertEquals("08P01", hinted.sqlState());
        assertEquals("SCRAM channel binding check failed", hinted.message());
        assertEquals("CheckSCRAMAuth", hinted.fields().get('R'));
        assertEquals("do this", hinted.fields().get('H'));
    }

    @Test
    void saslMechanismsRoundTrip() {
        assertEquals(new BackendMessage.AuthenticationSasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                fromBackend(message('R', 10, "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", (byte) 0),
                        BackendMessage.AuthenticationSasl::decode));
        assertEquals(new BackendMessage.AuthenticationSasl(List.of("SCRAM-SHA-256")),
                fromBackend(PgEncoder.authenticationSasl(ALLOC, List.of("SCRAM-SHA-256")), BackendMessage.AuthenticationSasl::decode));
    }

    @Test
    void backendKeyDataWithFourByteKey() {
        BackendMessage.BackendKeyData k = fromBackend(PgEncoder.backendKeyData(ALLOC, 4242, Bytes.hex("a1b2c3d4")),
                BackendMessage.BackendKeyData::decode);
        assertEquals(4242, k.processId());
        assertArrayEquals(Bytes.hex("a1b2c3d4"), k.secretKey());
    }

    @Test
    void backendKeyDataWithThirtyTwoByteKey() {
        BackendMessage.BackendKeyData k = fromBackend(PgEncoder.backendKeyData(ALLOC, -1, Bytes.sequence(32)),
                BackendMessage.BackendKeyData::decode);
        assertEquals(-1, k.processId());
        assertArrayEquals(Bytes.sequence(32), k.secretKey());
    }

    @Test
    void parameterStatus() {
        assertEquals(new BackendMessage.ParameterStatus("server_version", "17.0"),
                fromBackend(PgEncoder.parameterStatus(ALLOC, "server_version", "17.0"), BackendMessage.ParameterStatus::decode));
        assertEquals(new BackendMessage.ParameterStatus("application_name", ""),
                fromBackend(PgEncoder.parameterStatus(ALLOC, "application_name", ""), BackendMessage.ParameterStatus::decode));
    }

    @Test
    void parameterStatusValueIsReadOnlyForTheNamedParameter() {
        byte[] applicationName = "application_name".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals("psql — ünïcode", fromBackend(PgEncoder.parameterStatus(ALLOC, "application_name", "psql — ünïcode"),
                f -> BackendMessage.ParameterStatus.valueIfNamed(f, applicationName)));
        assertEquals("", fromBackend(PgEncoder.parameterStatus(ALLOC, "application_name", ""),
                f -> BackendMessage.ParameterStatus.valueIfNamed(f, applicationName)));
        for (String other : new String[] {"application", "application_name2", "Application_name", "TimeZone", ""}) {
            assertNull(fromBackend(PgEncoder.parameterStatus(ALLOC, other, "x"),
                    f -> BackendMessage.ParameterStatus.valueIfNamed(f, applicationName)), other);
        }
        assertThrows(ProtocolException.class, () -> fromBackend(message('S', concat(applicationName, new byte[] {0, 'x'})),
                f -> BackendMessage.ParameterStatus.valueIfNamed(f, applicationName)));
        assertNull(fromBackend(message('S', applicationName), f -> BackendMessage.ParameterStatus.valueIfNamed(f, applicationName)),
                "the name ends the message: no terminating NUL, so it is not the parameter");
    }

    @Test
    void readyForQueryStatus() {
        for (byte status : new byte[] {'I', 'T', 'E'}) {
            assertEquals(status, (byte) fromBackend(PgEncoder.readyForQuery(ALLOC, status), BackendMessage.ReadyForQuery::status));
        }
    }

    @Test
    void commandComplete() {
        assertEquals(new BackendMessage.CommandComplete("INSERT 0 5"),
                fromBackend(PgEncoder.commandComplete(ALLOC, "INSERT 0 5"), BackendMessage.CommandComplete::decode));
    }

    @Test
    void errorResponseFromEncoderKeepsEveryFieldInOrder() {
        PgError error = PgError.error(SqlState.SYNTAX_ERROR, "syntax error at or near \"x\"")
                .withDetail("some detail").withHint("some hint").withPosition(8);
        BackendMessage.ErrorResponse e = fromBackend(PgEncoder.errorResponse(ALLOC, error), BackendMessage.ErrorResponse::decode);
        Map<Character, String> expected = new LinkedHashMap<>();
        expected.put('S', "ERROR");
        expected.put('V', "ERROR");
        expected.put('C', "42601");
        expected.put('M', "syntax error at or near \"x\"");
        expected.put('D', "some detail");
        expected.put('H', "some hint");
        expected.put('P', "8");
        assertEquals(expected, e.fields());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(e.fields().keySet()));
        assertEquals("ERROR", e.severity());
        assertEquals("42601", e.sqlState());
        assertEquals("syntax error at or near \"x\"", e.message());
    }

    @Test
    void noticeResponseDecodesWithTheSameLayout() {
        PgError notice = new PgError(PgError.Severity.WARNING, SqlState.SUCCESSFUL_COMPLETION, "careful", null, null, 0);
        BackendMessage.ErrorResponse n = fromBackend(PgEncoder.noticeResponse(ALLOC, notice), BackendMessage.ErrorResponse::decode);
        assertEquals(Map.of('S', "WARNING", 'V', "WARNING", 'C', "00000", 'M', "careful"), n.fields());
    }

    @Test
    void severityPrefersTheNonLocalisedField() {
        BackendMessage.ErrorResponse localised = fromBackend(
                message('E', 'S', "FEHLER", 'V', "ERROR", 'C', "42P01", 'M', "Relation existiert nicht", (byte) 0),
                BackendMessage.ErrorResponse::decode);
        assertEquals("ERROR", localised.severity());
        assertEquals("42P01", localised.sqlState());

        BackendMessage.ErrorResponse old = fromBackend(message('E', 'S', "FATAL", 'C', "28P01", 'M', "no", (byte) 0),
                BackendMessage.ErrorResponse::decode);
        assertEquals("FATAL", old.severity());
    }

    @Test
    void errorResponseWithoutFields() {
        BackendMessage.ErrorResponse empty = fromBackend(message('E', (byte) 0), BackendMessage.ErrorResponse::decode);
        assertEquals(Map.of(), empty.fields());
        assertNull(empty.severity());
        assertNull(empty.sqlState());
        assertNull(empty.message());
    }

    @Test
    void decodersReadFromTheFrameReaderIndex() {
        byte[] ready = message('Z', 'T');
        byte[] status = message('S', "TimeZone", "UTC");
        ByteBuf buf = Unpooled.buffer().writeBytes(Bytes.sequence(7)).writeBytes(ready).writeBytes(status);
        PgFrame readyFrame = new PgFrame((byte) 'Z', buf.retainedSlice(7, ready.length));
        PgFrame statusFrame = new PgFrame((byte) 'S', buf.slice(7 + ready.length, status.length));
        try {
            assertEquals((byte) 'T', BackendMessage.ReadyForQuery.status(readyFrame));
            assertEquals(new BackendMessage.ParameterStatus("TimeZone", "UTC"), BackendMessage.ParameterStatus.decode(statusFrame));
        } finally {
            readyFrame.release();
            buf.release();
        }
        assertEquals(0, buf.refCnt());
    }

    @Test
    void wireCStringRoundTrip() {
        ByteBuf buf = Unpooled.buffer();
        try {
            FrontendMessage.Wire.writeCString(buf, "caf\u00e9");
            FrontendMessage.Wire.writeCString(buf, "");
            assertEquals("636166c3a90000", Bytes.hex(Bytes.readable(buf)));
            assertEquals("caf\u00e9", FrontendMessage.Wire.readCString(buf));
            assertEquals("", FrontendMessage.Wire.readCString(buf));
            assertEquals(0, buf.readableBytes());
            assertThrows(ProtocolException.class, () -> FrontendMessage.Wire.readCString(buf));
        } finally {
            buf.release();
        }
    }
}
