package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(LeakDetection.class)
class ProtocolTypesTest {

    @Test
    void startupCodesMatchTheProtocolDocumentation() {
        assertEquals(0x00030000, StartupPacket.PROTOCOL_3_0);
        assertEquals(0x00030002, StartupPacket.PROTOCOL_3_2);
        assertEquals(0x04d2162e, StartupPacket.CANCEL_REQUEST_CODE);
        assertEquals(0x04d2162f, StartupPacket.SSL_REQUEST_CODE);
        assertEquals(0x04d21630, StartupPacket.GSSENC_REQUEST_CODE);
        assertEquals(3, StartupPacket.majorVersion(StartupPacket.PROTOCOL_3_2));
        assertEquals(2, StartupPacket.minorVersion(StartupPacket.PROTOCOL_3_2));
        assertEquals(1234, StartupPacket.majorVersion(StartupPacket.SSL_REQUEST_CODE));
        assertEquals(5679, StartupPacket.minorVersion(StartupPacket.SSL_REQUEST_CODE));
        assertEquals(0xffff, StartupPacket.majorVersion(0xffff0000));
    }

    @Test
    void startupMessageCopiesItsParameters() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        StartupPacket.StartupMessage m = new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0, params);
        params.put("database", "other");
        assertEquals(Map.of("user", "alice"), m.parameters());
        assertThrows(UnsupportedOperationException.class, () -> m.parameters().put("x", "y"));
    }

    @Test
    void databaseDefaultsToTheUserName() {
        assertEquals("alice", new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0, Map.of("user", "alice")).database());
        assertEquals("alice", new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0,
                Map.of("user", "alice", "database", "")).database());
        assertEquals("shop", new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0,
                Map.of("user", "alice", "database", "shop")).database());
        StartupPacket.StartupMessage none = new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0, new HashMap<>());
        assertNull(none.user());
        assertNull(none.database());
        assertEquals("", none.applicationName());
    }

    @Test
    void cancelRequestComparesKeysByContentAndDoesNotPrintThem() {
        StartupPacket.CancelRequest a = new StartupPacket.CancelRequest(7, Bytes.hex("a1b2c3d4"));
        StartupPacket.CancelRequest b = new StartupPacket.CancelRequest(7, Bytes.hex("a1b2c3d4"));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new StartupPacket.CancelRequest(8, Bytes.hex("a1b2c3d4")));
        assertNotEquals(a, new StartupPacket.CancelRequest(7, Bytes.hex("a1b2c3d5")));
        assertEquals("CancelRequest[processId=7, keyLength=4]", a.toString());
    }

    @Test
    void frameInterest() {
        FrameInterest of = FrameInterest.of('Q', 'P');
        assertTrue(of.contains((byte) 'Q'));
        assertTrue(of.contains((byte) 'P'));
        assertFalse(of.contains((byte) 'B'));
        assertFalse(FrameInterest.of().contains((byte) 'Q'));

        FrameInterest except = FrameInterest.allExcept('D', 'd');
        assertFalse(except.contains((byte) 'D'));
        assertFalse(except.contains((byte) 'd'));
        for (int t = 0; t < 256; t++) {
            if (t != 'D' && t != 'd') {
                assertTrue(except.contains((byte) t), "type " + t);
            }
        }
        assertTrue(FrameInterest.of((char) 0xff).contains((byte) 0xff));
    }

    @Test
    void pgFrame() {
        byte[] query = Bytes.message('Q', "SELECT 1");
        ByteBuf buf = Unpooled.buffer().writeBytes(new byte[3]).writeBytes(query);
        buf.skipBytes(3);
        PgFrame frame = new PgFrame((byte) 'Q', buf);
        assertEquals("PgFrame[Q, 14 bytes]", frame.toString());
        assertEquals(Bytes.hex(Arrays.copyOfRange(query, 5, query.length)), Bytes.hex(Bytes.readable(frame.payload())));

        PgFrame replaced = frame.replace(Unpooled.wrappedBuffer(Bytes.message('Q', "SELECT 2")));
        assertEquals((byte) 'Q', replaced.type());
        assertEquals("SELECT 2", FrontendMessage.Query.decode(replaced).sql());
        assertTrue(replaced.release());
        assertTrue(frame.release());
        assertEquals(0, buf.refCnt());
    }

    @Test
    void pgErrorFactoriesAndWithers() {
        PgError e = PgError.error(SqlState.SYNTAX_ERROR, "m");
        assertEquals(new PgError(PgError.Severity.ERROR, SqlState.SYNTAX_ERROR, "m", null, null, 0), e);
        assertEquals(new PgError(PgError.Severity.FATAL, SqlState.ADMIN_SHUTDOWN, "bye", null, null, 0),
                PgError.fatal(SqlState.ADMIN_SHUTDOWN, "bye"));
        PgError full = e.withDetail("d").withHint("h").withPosition(4);
        assertEquals(new PgError(PgError.Severity.ERROR, SqlState.SYNTAX_ERROR, "m", "d", "h", 4), full);
        assertEquals(new PgError(PgError.Severity.ERROR, SqlState.SYNTAX_ERROR, "m", "d2", "h", 4), full.withDetail("d2"));
        assertEquals(new PgError(PgError.Severity.ERROR, SqlState.SYNTAX_ERROR, "m", "d", "h2", 4), full.withHint("h2"));
    }

    @Test
    void sqlStatesAreDistinctFiveCharacterCodes() {
        Set<String> codes = new HashSet<>();
        for (SqlState s : SqlState.values()) {
            assertTrue(s.code().matches("[0-9A-Z]{5}"), s + " " + s.code());
            assertTrue(codes.add(s.code()), "duplicate code " + s.code());
        }
        assertEquals("08P01", SqlState.PROTOCOL_VIOLATION.code());
        assertEquals("0A000", SqlState.FEATURE_NOT_SUPPORTED.code());
        assertEquals("57014", SqlState.QUERY_CANCELED.code());
    }

    @Test
    void protocolExceptionDefaultsToProtocolViolation() {
        ProtocolException e = new ProtocolException("bad");
        assertSame(SqlState.PROTOCOL_VIOLATION, e.sqlState());
        assertEquals("bad", e.getMessage());
        assertEquals(List.of(), List.of(e.getStackTrace()));
        assertSame(SqlState.FEATURE_NOT_SUPPORTED, new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "x").sqlState());
    }
}
