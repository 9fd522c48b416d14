package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.pgbailiff.protocol.DecoderHarness.Feed;
import io.pgbailiff.protocol.DecoderHarness.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.pgbailiff.protocol.Bytes.concat;
import static io.pgbailiff.protocol.Bytes.packet;
import static io.pgbailiff.protocol.Messages.GSSENC_REQUEST;
import static io.pgbailiff.protocol.Messages.SSL_REQUEST;
import static io.pgbailiff.protocol.Messages.STARTUP_3_0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.params.provider.Arguments.arguments;

@ExtendWith(LeakDetection.class)
class PgFrameDecoderRejectionTest {
    private static final int MAX = 1024;
    private static final FrameInterest CLIENT_INTEREST = FrameInterest.of('Q');
    private static final FrameInterest BACKEND_INTEREST = FrameInterest.of('Z');
    private static final Event STARTUP = new Event.Startup(Messages.startup30());
    /** Valid traffic written after a failure, which must be discarded. */
    private static final byte[] TRAILER = concat(STARTUP_3_0, Bytes.message('Q', "SELECT 1"), Bytes.message('Z', 'I'), Bytes.message('S'));
    private static final String BAD_LAYOUT = "invalid startup packet layout: expected terminator as last byte";

    private static Supplier<PgFrameDecoder> client() {
        return () -> PgFrameDecoder.forClient(CLIENT_INTEREST, MAX);
    }

    private static Supplier<PgFrameDecoder> backend() {
        return () -> PgFrameDecoder.forBackend(BACKEND_INTEREST, MAX);
    }

    private static void assertRejected(Supplier<PgFrameDecoder> decoder, List<Feed> feeds, byte[] input,
                                       List<Event> emittedFirst, SqlState state, String message) {
        for (Feed feed : feeds) {
            try (DecoderHarness h = new DecoderHarness(decoder.get())) {
                Outcome outcome = h.feed(feed, input, TRAILER);
                assertNotNull(outcome.failure(), feed + ": no failure");
                assertEquals(state, outcome.failure().sqlState(), feed + ": SQLSTATE");
                assertEquals(message, outcome.failure().getMessage(), feed + ": message");
                assertEquals(emittedFirst, outcome.coalesced(), feed + ": output before the failure");
                assertEquals(List.of(), outcome.afterFailure(), feed + ": output after the failure");
                assertEquals(List.of(), h.write(TRAILER), feed + ": output of a later write");
            }
        }
    }

    private static void assertRejected(Supplier<PgFrameDecoder> decoder, byte[] input, List<Event> emittedFirst, String message) {
        assertRejected(decoder, List.of(Feed.values()), input, emittedFirst, SqlState.PROTOCOL_VIOLATION, message);
    }

    static Stream<Arguments> invalidTypedLengths() {
        List<Arguments> args = new ArrayList<>();
        int[] lengths = {3, 0, -1, Integer.MIN_VALUE, MAX + 1, Integer.MAX_VALUE};
        for (int length : lengths) {
            for (boolean framed : new boolean[] {true, false}) {
                String kind = framed ? "framed" : "pass-through";
                char clientType = framed ? 'Q' : 'd';
                char backendType = framed ? 'Z' : 'D';
                args.add(arguments("client, " + kind + ", length " + length, client(), clientType, length, List.of(STARTUP)));
                args.add(arguments("backend, " + kind + ", length " + length, backend(), backendType, length, List.of()));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidTypedLengths")
    void typedMessageWithInvalidLengthIsRejected(String name, Supplier<PgFrameDecoder> decoder, char type, int length, List<Event> before) {
        byte[] prefix = before.isEmpty() ? new byte[0] : STARTUP_3_0;
        byte[] input = concat(prefix, Bytes.of(type, length), Bytes.sequence(8));
        assertRejected(decoder, input, before, "invalid message length " + length + " for message type \"" + type + "\"");
    }

    @Test
    void lengthCheckAppliesToLengthsWrittenAsUnsigned() {
        assertRejected(backend(), Bytes.hex("5a ffffffff"), List.of(), "invalid message length -1 for message type \"Z\"");
        assertRejected(backend(), Bytes.hex("5a 80000000"), List.of(), "invalid message length -2147483648 for message type \"Z\"");
    }

    @Test
    void messagesBeforeABadHeaderAreStillDelivered() {
        byte[] row = Bytes.message('D', (short) 1, 1, Messages.ascii("x"));
        byte[] ready = Bytes.message('Z', 'I');
        assertRejected(backend(), concat(row, ready, row, Bytes.of('C', 2)),
                List.of(Event.raw(row), Event.frame(ready), Event.raw(row)),
                "invalid message length 2 for message type \"C\"");
    }

    @Test
    void nonPrintableTypeIsShownEscaped() {
        assertRejected(backend(), Bytes.hex("00 00000002"), List.of(), "invalid message length 2 for message type \"\\x00\"");
        assertRejected(backend(), Bytes.hex("ff 00000001"), List.of(), "invalid message length 1 for message type \"\\xff\"");
    }

    @ParameterizedTest
    @ValueSource(ints = {StartupPacket.MAX_STARTUP_PACKET_LENGTH + 1, 1 << 20, Integer.MAX_VALUE})
    void startupPacketAboveTheMaximumLengthIsRejected(int length) {
        assertRejected(client(), Bytes.of(length, 0x00030000, "user", "u", (byte) 0), List.of(), "invalid length of startup packet");
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 4, 0, -1, Integer.MIN_VALUE})
    void startupPacketShorterThanEightBytesIsRejected(int length) {
        assertRejected(client(), Bytes.of(length, 0x00030000, 0), List.of(), "invalid length of startup packet");
    }

    static Stream<Arguments> unsupportedVersions() {
        return Stream.of(
                arguments(0x00020000, "2.0"),
                arguments(0x00040000, "4.0"),
                arguments(0x00000000, "0.0"),
                arguments(0x00010000, "1.0"),
                arguments(0x04d21631, "1234.5681"));
    }

    @ParameterizedTest(name = "protocol {1}")
    @MethodSource("unsupportedVersions")
    void unknownProtocolMajorVersionIsNotSupported(int version, String shown) {
        assertRejected(client(), List.of(Feed.values()), packet(version, "user", "u", (byte) 0), List.of(),
                SqlState.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + shown + ": server supports 3.0 to 3.2");
    }

    static Stream<Arguments> badLayouts() {
        return Stream.of(
                arguments("missing final terminator", packet(0x00030000, "user", "alice")),
                arguments("no parameters and no terminator", packet(0x00030000)),
                arguments("name without value", packet(0x00030000, "user", "alice", "database")),
                arguments("unterminated name", packet(0x00030000, Messages.ascii("user"))),
                arguments("unterminated value", packet(0x00030000, "user", Messages.ascii("alice"))),
                arguments("bytes after the terminator", packet(0x00030000, "user", "alice", (byte) 0, 'x')));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLayouts")
    void startupPacketWithBadLayoutIsRejected(String name, byte[] packet) {
        assertRejected(client(), packet, List.of(), BAD_LAYOUT);
    }

    @Test
    void sslRequestFollowedByPipelinedBytesIsRejected() {
        assertRejected(client(), List.of(Feed.WHOLE), concat(SSL_REQUEST, STARTUP_3_0), List.of(),
                SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
        assertRejected(client(), List.of(Feed.WHOLE), concat(SSL_REQUEST, Bytes.hex("16")), List.of(),
                SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
    }

    @Test
    void gssEncRequestFollowedByPipelinedBytesIsRejected() {
        assertRejected(client(), List.of(Feed.WHOLE), concat(GSSENC_REQUEST, STARTUP_3_0), List.of(),
                SqlState.PROTOCOL_VIOLATION, "received unencrypted data after GSSAPI encryption request");
    }

    @Test
    void pipelinedBytesAfterAnAcceptedRequestAreStillRejected() {
        assertRejected(client(), List.of(Feed.WHOLE), concat(SSL_REQUEST, SSL_REQUEST, STARTUP_3_0),
                List.of(), SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
        try (DecoderHarness h = DecoderHarness.client(CLIENT_INTEREST)) {
            assertEquals(List.of(new Event.Startup(new StartupPacket.SslRequest())), h.write(SSL_REQUEST));
            ProtocolException e = h.writeRejected(concat(GSSENC_REQUEST, STARTUP_3_0));
            assertEquals("received unencrypted data after GSSAPI encryption request", e.getMessage());
            assertEquals(List.of(), h.drain());
            assertEquals(List.of(), h.write(STARTUP_3_0));
        }
    }

    @Test
    void encryptionRequestWithWrongLengthIsRejected() {
        assertRejected(client(), packet(StartupPacket.SSL_REQUEST_CODE, 0), List.of(), "invalid length of SSL request");
        assertRejected(client(), packet(StartupPacket.GSSENC_REQUEST_CODE, 0), List.of(), "invalid length of GSSENC request");
    }

    static Stream<Arguments> badCancelRequests() {
        return Stream.of(
                arguments("no process id", packet(StartupPacket.CANCEL_REQUEST_CODE)),
                arguments("short process id", packet(StartupPacket.CANCEL_REQUEST_CODE, (short) 1)),
                arguments("empty key", packet(StartupPacket.CANCEL_REQUEST_CODE, 42)),
                arguments("3-byte key", packet(StartupPacket.CANCEL_REQUEST_CODE, 42, Bytes.sequence(3))),
                arguments("257-byte key", packet(StartupPacket.CANCEL_REQUEST_CODE, 42, Bytes.sequence(257))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCancelRequests")
    void cancelRequestWithBadKeyLengthIsRejected(String name, byte[] packet) {
        assertRejected(client(), packet, List.of(), "invalid length of cancel request packet");
    }

    @Test
    void failureSurfacesAsDecoderExceptionCausedByProtocolException() {
        try (DecoderHarness h = DecoderHarness.backend(BACKEND_INTEREST)) {
            ByteBuf bad = h.input(Bytes.of('Z', 3));
            DecoderException e = assertThrows(DecoderException.class, () -> h.channel().writeInbound(bad));
            ProtocolException cause = assertInstanceOf(ProtocolException.class, e.getCause());
            assertEquals(SqlState.PROTOCOL_VIOLATION, cause.sqlState());
        }
    }

    @Test
    void decoderDiscardsAllInputAfterAFailure() {
        try (DecoderHarness h = DecoderHarness.client(CLIENT_INTEREST)) {
            assertEquals(List.of(STARTUP), h.write(STARTUP_3_0));
            h.writeRejected(Bytes.of('Q', 2));
            assertEquals(List.of(), h.drain());
            for (int i = 0; i < 3; i++) {
                assertEquals(List.of(), h.write(Bytes.message('Q', "SELECT " + i)));
            }
            assertEquals(List.of(), h.write(Bytes.of('Q', 2)));
            assertEquals(List.of(), h.write(STARTUP_3_0));
        }
    }
}
