package io.pgbailiff.protocol;

import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.pgbailiff.protocol.Bytes.message;
import static io.pgbailiff.protocol.Bytes.packet;

/** Sample traffic for decoder tests, one message of every type a client or a server sends. */
final class Messages {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    static final byte[] STARTUP_3_0 = packet(0x00030000,
            "user", "alice", "database", "shop", "application_name", "psql", "options", "-c search_path=app", (byte) 0);
    static final byte[] STARTUP_3_2 = packet(0x00030002, "user", "bob", "_pq_.test_option", "on", (byte) 0);
    static final byte[] SSL_REQUEST = Bytes.hex("00000008 04d2162f");
    static final byte[] GSSENC_REQUEST = Bytes.hex("00000008 04d21630");

    /** Frontend messages in the order a session might send them, keyed by type. */
    static final Map<Character, byte[]> FRONTEND = ordered(
            message('p', "secret"),
            message('Q', "SELECT 1"),
            message('P', "s1", "SELECT $1::int, $2::text", (short) 2, 23, 25),
            message('B', "p1", "s1", (short) 1, (short) 0, (short) 2, 2, ascii("42"), -1, (short) 1, (short) 1),
            message('D', 'S', "s1"),
            message('E', "p1", 0),
            message('H'),
            message('S'),
            message('C', 'P', "p1"),
            message('F', 1598, (short) 1, (short) 1, (short) 1, 4, Bytes.hex("0000002a"), (short) 1),
            message('d', Bytes.sequence(300)),
            message('c'),
            message('f', "aborted by user"),
            message('X'));

    /** Backend messages of every type, keyed by type. */
    static final Map<Character, byte[]> BACKEND = ordered(
            message('R', 0),
            message('v', 0x00030002, 1, "_pq_.test_option"),
            message('S', "server_version", "17.0"),
            message('K', 4242, Bytes.sequence(32)),
            message('Z', 'I'),
            message('t', (short) 1, 23),
            message('T', (short) 1, "n", 0, (short) 0, 23, (short) 4, -1, (short) 0),
            message('D', (short) 1, 1, ascii("1")),
            message('C', "SELECT 1"),
            message('1'),
            message('2'),
            message('3'),
            message('n'),
            message('s'),
            message('I'),
            message('N', 'S', "NOTICE", 'V', "NOTICE", 'C', "00000", 'M', "note", (byte) 0),
            message('A', 77, "chan", "payload"),
            message('G', (byte) 0, (short) 1, (short) 0),
            message('H', (byte) 0, (short) 1, (short) 0),
            message('d', Bytes.sequence(500)),
            message('c'),
            message('V', 4, Bytes.hex("0000002a")),
            message('E', 'S', "ERROR", 'V', "ERROR", 'C', "42P01", 'M', "relation \"x\" does not exist", 'P', "15", (byte) 0));

    /** A backend stream from authentication to an error, mixing hand-built and encoder-built messages. */
    static final List<byte[]> BACKEND_SESSION = List.of(
            message('R', 10, "SCRAM-SHA-256", (byte) 0),
            message('R', 11, ascii("r=abc,s=c2FsdA==,i=4096")),
            message('R', 12, ascii("v=c2lnbmF0dXJl")),
            message('R', 0),
            Bytes.take(PgEncoder.negotiateProtocolVersion(ALLOC, StartupPacket.PROTOCOL_3_2, List.of("_pq_.test_option"))),
            Bytes.take(PgEncoder.parameterStatus(ALLOC, "server_version", "17.0")),
            Bytes.take(PgEncoder.parameterStatus(ALLOC, "client_encoding", "UTF8")),
            Bytes.take(PgEncoder.backendKeyData(ALLOC, 4242, Bytes.sequence(32))),
            Bytes.take(PgEncoder.readyForQuery(ALLOC, (byte) 'I')),
            Bytes.take(PgEncoder.parseComplete(ALLOC)),
            Bytes.take(PgEncoder.parameterDescription(ALLOC, new int[] {23})),
            Bytes.take(PgEncoder.rowDescription(ALLOC, List.of(
                    PgEncoder.Field.of("a", 23, (short) 4, (short) 0),
                    PgEncoder.Field.of("b", 25, (short) -1, (short) 0)))),
            Bytes.take(PgEncoder.bindComplete(ALLOC)),
            Bytes.take(PgEncoder.dataRow(ALLOC, Arrays.asList(ascii("1"), null))),
            Bytes.take(PgEncoder.dataRow(ALLOC, Arrays.asList(ascii("2"), ascii("two")))),
            Bytes.take(PgEncoder.portalSuspended(ALLOC)),
            Bytes.take(PgEncoder.commandComplete(ALLOC, "SELECT 2")),
            Bytes.take(PgEncoder.closeComplete(ALLOC)),
            Bytes.take(PgEncoder.noData(ALLOC)),
            Bytes.take(PgEncoder.emptyQueryResponse(ALLOC)),
            Bytes.take(PgEncoder.noticeResponse(ALLOC, new PgError(PgError.Severity.NOTICE, SqlState.SUCCESSFUL_COMPLETION, "note", null, null, 0))),
            message('A', 77, "chan", "payload"),
            message('H', (byte) 0, (short) 1, (short) 0),
            message('d', Bytes.sequence(500)),
            message('c'),
            message('V', 4, Bytes.hex("0000002a")),
            Bytes.take(PgEncoder.errorResponse(ALLOC, PgError.error(SqlState.SYNTAX_ERROR, "oops").withPosition(3))),
            Bytes.take(PgEncoder.readyForQuery(ALLOC, (byte) 'E')));

    static final FrameInterest PROXY_FRONTEND_INTEREST = FrameInterest.of('Q', 'P', 'B', 'E', 'C', 'D', 'X', 'p');
    static final FrameInterest PROXY_BACKEND_INTEREST = FrameInterest.of('R', 'K', 'S', 'Z', 'E', 'N', 'C', 'v');

    private Messages() {
    }

    static StartupPacket.StartupMessage startup30() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "shop");
        params.put("application_name", "psql");
        params.put("options", "-c search_path=app");
        return new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0, params);
    }

    static StartupPacket.StartupMessage startup32() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "bob");
        params.put("_pq_.test_option", "on");
        return new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_2, params);
    }

    static byte[] cancelRequest(int processId, byte[] key) {
        return packet(0x04d2162e, processId, key);
    }

    static List<byte[]> frontendSession() {
        return List.copyOf(FRONTEND.values());
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static Map<Character, byte[]> ordered(byte[]... messages) {
        Map<Character, byte[]> map = new LinkedHashMap<>();
        for (byte[] m : messages) {
            if (map.put((char) m[0], m) != null) {
                throw new IllegalArgumentException("duplicate type " + (char) m[0]);
            }
        }
        return Collections.unmodifiableMap(map);
    }
}
