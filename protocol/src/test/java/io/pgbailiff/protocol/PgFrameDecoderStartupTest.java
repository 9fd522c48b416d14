package io.pgbailiff.protocol;

import io.netty.buffer.ByteBufAllocator;
import io.pgbailiff.protocol.DecoderHarness.Feed;
import io.pgbailiff.protocol.DecoderHarness.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.pgbailiff.protocol.Bytes.concat;
import static io.pgbailiff.protocol.Messages.GSSENC_REQUEST;
import static io.pgbailiff.protocol.Messages.SSL_REQUEST;
import static io.pgbailiff.protocol.Messages.STARTUP_3_0;
import static io.pgbailiff.protocol.Messages.STARTUP_3_2;
import static io.pgbailiff.protocol.Messages.cancelRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.params.provider.Arguments.arguments;

@ExtendWith(LeakDetection.class)
class PgFrameDecoderStartupTest {
    private static final FrameInterest INTEREST = Messages.PROXY_FRONTEND_INTEREST;
    private static final byte[] KEY_4 = Bytes.hex("0a0b0c0d");
    private static final byte[] KEY_32 = Bytes.sequence(32);
    private static final byte[] KEY_256 = Bytes.sequence(256);

    private static Event startup(StartupPacket packet) {
        return new Event.Startup(packet);
    }

    private static Outcome decode(Feed feed, List<byte[]> segments) {
        return DecoderHarness.decode(() -> PgFrameDecoder.forClient(INTEREST, DecoderHarness.MAX_MESSAGE_LENGTH),
                feed, segments.toArray(byte[][]::new));
    }

    static Stream<Arguments> startupSequences() {
        byte[] query = Bytes.message('Q', "SELECT 1");
        byte[] sync = Bytes.message('S');
        return Stream.of(
                arguments("StartupMessage 3.0", List.of(STARTUP_3_0), List.of(startup(Messages.startup30()))),
                arguments("StartupMessage 3.2", List.of(STARTUP_3_2), List.of(startup(Messages.startup32()))),
                arguments("SSLRequest", List.of(SSL_REQUEST), List.of(startup(new StartupPacket.SslRequest()))),
                arguments("GSSENCRequest", List.of(GSSENC_REQUEST), List.of(startup(new StartupPacket.GssEncRequest()))),
                arguments("SSLRequest, then StartupMessage", List.of(SSL_REQUEST, STARTUP_3_0),
                        List.of(startup(new StartupPacket.SslRequest()), startup(Messages.startup30()))),
                arguments("GSSENCRequest, SSLRequest, then StartupMessage 3.2", List.of(GSSENC_REQUEST, SSL_REQUEST, STARTUP_3_2),
                        List.of(startup(new StartupPacket.GssEncRequest()), startup(new StartupPacket.SslRequest()),
                                startup(Messages.startup32()))),
                arguments("CancelRequest with 4-byte key", List.of(cancelRequest(4242, KEY_4)),
                        List.of(startup(new StartupPacket.CancelRequest(4242, KEY_4)))),
                arguments("CancelRequest with 32-byte key", List.of(cancelRequest(-7, KEY_32)),
                        List.of(startup(new StartupPacket.CancelRequest(-7, KEY_32)))),
                arguments("CancelRequest with 256-byte key", List.of(cancelRequest(1, KEY_256)),
                        List.of(startup(new StartupPacket.CancelRequest(1, KEY_256)))),
                arguments("StartupMessage and typed messages in one buffer", List.of(concat(STARTUP_3_0, query, sync)),
                        List.of(startup(Messages.startup30()), Event.frame(query), Event.raw(sync))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("startupSequences")
    void decodesStartupPackets(String name, List<byte[]> segments, List<Event> expected) {
        Outcome outcome = decode(Feed.WHOLE, segments);
        assertNull(outcome.failure());
        assertEquals(expected, outcome.events());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("startupSequences")
    void byteAtATimeDecodesLikeWhole(String name, List<byte[]> segments, List<Event> expected) {
        Outcome whole = decode(Feed.WHOLE, segments);
        Outcome bytewise = decode(Feed.BYTE_BY_BYTE, segments);
        assertNull(bytewise.failure());
        assertEquals(whole.coalesced(), bytewise.coalesced());
        assertEquals(expected, bytewise.coalesced());
    }

    static Stream<Arguments> singlePackets() {
        return Stream.of(
                arguments("StartupMessage 3.0", STARTUP_3_0, Messages.startup30()),
                arguments("StartupMessage 3.2", STARTUP_3_2, Messages.startup32()),
                arguments("SSLRequest", SSL_REQUEST, new StartupPacket.SslRequest()),
                arguments("GSSENCRequest", GSSENC_REQUEST, new StartupPacket.GssEncRequest()),
                arguments("CancelRequest with 4-byte key", cancelRequest(4242, KEY_4), new StartupPacket.CancelRequest(4242, KEY_4)),
                arguments("CancelRequest with 32-byte key", cancelRequest(4242, KEY_32), new StartupPacket.CancelRequest(4242, KEY_32)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singlePackets")
    void startupPacketIsEmittedByTheWriteOfItsLastByte(String name, byte[] packet, StartupPacket expected) {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            for (int i = 0; i < packet.length - 1; i++) {
                assertEquals(List.of(), h.write(new byte[] {packet[i]}), "output after byte " + i);
            }
            assertEquals(List.of(startup(expected)), h.write(new byte[] {packet[packet.length - 1]}));
        }
    }

    @Test
    void startupParametersKeepTheirOrderAndValues() {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            List<Event> events = h.write(STARTUP_3_0);
            StartupPacket.StartupMessage m = assertInstanceOf(StartupPacket.StartupMessage.class,
                    ((Event.Startup) events.get(0)).packet());
            assertEquals(StartupPacket.PROTOCOL_3_0, m.protocolVersion());
            assertEquals(List.of("user", "database", "application_name", "options"), List.copyOf(m.parameters().keySet()));
            assertEquals("alice", m.user());
            assertEquals("shop", m.database());
            assertEquals("psql", m.applicationName());
            assertEquals("-c search_path=app", m.parameters().get("options"));
        }
    }

    @Test
    void protocol32StartupKeepsProtocolOptions() {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) ((Event.Startup) h.write(STARTUP_3_2).get(0)).packet();
            assertEquals(StartupPacket.PROTOCOL_3_2, m.protocolVersion());
            assertEquals("on", m.parameters().get("_pq_.test_option"));
            assertEquals("bob", m.database());
        }
    }

    @Test
    void newerMinorVersionIsPassedOnForNegotiation() {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            List<Event> events = h.write(Bytes.packet(0x00030007, "user", "u", (byte) 0));
            assertEquals(List.of(startup(new StartupPacket.StartupMessage(0x00030007, Map.of("user", "u")))), events);
        }
    }

    @Test
    void startupMessageWithoutParametersDecodesToAnEmptyMap() {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            assertEquals(List.of(startup(new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_0, Map.of()))),
                    h.write(Bytes.hex("00000009 00030000 00")));
        }
    }

    @Test
    void startupPacketOfExactlyTheMaximumLengthIsAccepted() {
        String value = "x".repeat(StartupPacket.MAX_STARTUP_PACKET_LENGTH - 25);
        byte[] packet = Bytes.packet(0x00030000, "user", "u", "options", value, (byte) 0);
        assertEquals(StartupPacket.MAX_STARTUP_PACKET_LENGTH, packet.length);
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) ((Event.Startup) h.write(packet).get(0)).packet();
            assertEquals(value, m.parameters().get("options"));
        }
    }

    @Test
    void utf8ParameterValuesAreDecoded() {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) ((Event.Startup)
                    h.write(Bytes.packet(0x00030000, "user", "j\u00fcrgen", "application_name", "\u65e5\u672c", (byte) 0)).get(0)).packet();
            assertEquals("j\u00fcrgen", m.user());
            assertEquals("\u65e5\u672c", m.applicationName());
        }
    }

    @Test
    void bytesAfterCancelRequestAreDiscarded() {
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            byte[] cancel = cancelRequest(99, KEY_4);
            assertEquals(List.of(startup(new StartupPacket.CancelRequest(99, KEY_4))),
                    h.write(concat(cancel, STARTUP_3_0, Bytes.message('Q', "SELECT 1"))));
            assertEquals(List.of(), h.write(STARTUP_3_0));
            assertEquals(List.of(), h.write(Bytes.message('Q', "SELECT 1")));
        }
    }

    @Test
    void encoderOutputDecodesToTheSamePackets() {
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "db");
        params.put("_pq_.test_option", "on");
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            assertEquals(List.of(startup(new StartupPacket.SslRequest())), h.write(Bytes.take(PgEncoder.sslRequest(alloc))));
            assertEquals(List.of(startup(new StartupPacket.StartupMessage(StartupPacket.PROTOCOL_3_2, params))),
                    h.write(Bytes.take(PgEncoder.startupMessage(alloc, StartupPacket.PROTOCOL_3_2, params))));
        }
        try (DecoderHarness h = DecoderHarness.client(INTEREST)) {
            assertEquals(List.of(startup(new StartupPacket.CancelRequest(31337, KEY_32))),
                    h.write(Bytes.take(PgEncoder.cancelRequest(alloc, 31337, KEY_32))));
        }
    }
}
