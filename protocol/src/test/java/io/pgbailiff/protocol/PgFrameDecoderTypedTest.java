package io.pgbailiff.protocol;

import io.pgbailiff.protocol.DecoderHarness.Feed;
import io.pgbailiff.protocol.DecoderHarness.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.pgbailiff.protocol.Bytes.concat;
import static io.pgbailiff.protocol.Messages.STARTUP_3_0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.params.provider.Arguments.arguments;

@ExtendWith(LeakDetection.class)
class PgFrameDecoderTypedTest {
    private static final int MAX = DecoderHarness.MAX_MESSAGE_LENGTH;
    private static final Event STARTUP = new Event.Startup(Messages.startup30());

    static Stream<Arguments> frontendInterests() {
        return Stream.of(
                arguments("every frontend type", FrameInterest.of('Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'X', 'F', 'd', 'c', 'f', 'p')),
                arguments("what the proxy acts on", Messages.PROXY_FRONTEND_INTEREST),
                arguments("nothing", FrameInterest.of()),
                arguments("all but CopyData", FrameInterest.allExcept('d')));
    }

    static Stream<Arguments> backendInterests() {
        return Stream.of(
                arguments("every type", FrameInterest.allExcept()),
                arguments("what the proxy acts on", Messages.PROXY_BACKEND_INTEREST),
                arguments("nothing", FrameInterest.of()),
                arguments("all but DataRow and CopyData", FrameInterest.allExcept('D', 'd')));
    }

    static Stream<Arguments> frontendMessages() {
        return Messages.FRONTEND.entrySet().stream().map(e -> arguments(e.getKey(), e.getValue()));
    }

    static Stream<Arguments> backendMessages() {
        return Messages.BACKEND.entrySet().stream().map(e -> arguments(e.getKey(), e.getValue()));
    }

    private static Supplier<PgFrameDecoder> client(FrameInterest interest) {
        return () -> PgFrameDecoder.forClient(interest, MAX);
    }

    private static Supplier<PgFrameDecoder> backend(FrameInterest interest) {
        return () -> PgFrameDecoder.forBackend(interest, MAX);
    }

    private static List<Event> withStartup(List<Event> typed) {
        List<Event> events = new ArrayList<>();
        events.add(STARTUP);
        events.addAll(typed);
        return events;
    }

    private static void assertByteAtATimeMatchesWhole(Supplier<PgFrameDecoder> decoder, byte[] input, List<Event> expected) {
        Outcome whole = DecoderHarness.decode(decoder, Feed.WHOLE, input);
        Outcome bytewise = DecoderHarness.decode(decoder, Feed.BYTE_BY_BYTE, input);
        assertNull(whole.failure());
        assertNull(bytewise.failure());
        assertEquals(expected, whole.coalesced());
        assertEquals(whole.coalesced(), bytewise.coalesced());
    }

    @ParameterizedTest(name = "interest: {0}")
    @MethodSource("frontendInterests")
    void clientSessionDecodesAlikeWholeAndByteAtATime(String name, FrameInterest interest) {
        List<byte[]> messages = Messages.frontendSession();
        byte[] typed = concat(messages.toArray(byte[][]::new));
        byte[] input = concat(STARTUP_3_0, typed);

        assertByteAtATimeMatchesWhole(client(interest), input, withStartup(Event.expected(interest, messages)));

        Outcome bytewise = DecoderHarness.decode(client(interest), Feed.BYTE_BY_BYTE, input);
        assertEquals(Bytes.hex(typed), Event.wireHex(bytewise.events()));
    }

    @ParameterizedTest(name = "interest: {0}")
    @MethodSource("backendInterests")
    void backendSessionDecodesAlikeWholeAndByteAtATime(String name, FrameInterest interest) {
        List<byte[]> messages = Messages.BACKEND_SESSION;
        byte[] input = concat(messages.toArray(byte[][]::new));

        assertByteAtATimeMatchesWhole(backend(interest), input, Event.expected(interest, messages));

        Outcome bytewise = DecoderHarness.decode(backend(interest), Feed.BYTE_BY_BYTE, input);
        assertEquals(Bytes.hex(input), Event.wireHex(bytewise.events()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frontendMessages")
    void everyFrontendTypeOfInterestIsOneFrame(char type, byte[] message) {
        byte[] neighbour = Bytes.message(type == 'H' ? 'S' : 'H');
        byte[] input = concat(STARTUP_3_0, neighbour, message, neighbour);
        assertByteAtATimeMatchesWhole(client(FrameInterest.of(type)), input,
                withStartup(List.of(Event.raw(neighbour), Event.frame(message), Event.raw(neighbour))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frontendMessages")
    void everyFrontendTypeNotOfInterestPassesThroughInOrder(char type, byte[] message) {
        byte[] neighbour = Bytes.message(type == 'H' ? 'S' : 'H');
        byte[] input = concat(STARTUP_3_0, neighbour, message, neighbour);
        assertByteAtATimeMatchesWhole(client(FrameInterest.allExcept(type)), input,
                withStartup(List.of(Event.frame(neighbour), Event.raw(message), Event.frame(neighbour))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backendMessages")
    void everyBackendTypeOfInterestIsOneFrame(char type, byte[] message) {
        byte[] neighbour = Bytes.message(type == '1' ? '2' : '1');
        byte[] input = concat(neighbour, message, neighbour);
        assertByteAtATimeMatchesWhole(backend(FrameInterest.of(type)), input,
                List.of(Event.raw(neighbour), Event.frame(message), Event.raw(neighbour)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backendMessages")
    void everyBackendTypeNotOfInterestPassesThroughInOrder(char type, byte[] message) {
        byte[] neighbour = Bytes.message(type == '1' ? '2' : '1');
        byte[] input = concat(neighbour, message, neighbour);
        assertByteAtATimeMatchesWhole(backend(FrameInterest.allExcept(type)), input,
                List.of(Event.frame(neighbour), Event.raw(message), Event.frame(neighbour)));
    }

    @Test
    void everySplitPointOfAClientSessionDecodesTheSame() {
        FrameInterest interest = Messages.PROXY_FRONTEND_INTEREST;
        List<byte[]> messages = Messages.frontendSession();
        byte[] input = concat(STARTUP_3_0, concat(messages.toArray(byte[][]::new)));
        List<Event> expected = withStartup(Event.expected(interest, messages));
        for (int split = 1; split < input.length; split++) {
            Outcome outcome = DecoderHarness.decode(client(interest), Feed.WHOLE,
                    Arrays.copyOfRange(input, 0, split), Arrays.copyOfRange(input, split, input.length));
            assertEquals(expected, outcome.coalesced(), "split at " + split);
        }
    }

    @Test
    void everySplitPointOfABackendSessionDecodesTheSame() {
        FrameInterest interest = Messages.PROXY_BACKEND_INTEREST;
        byte[] input = concat(Messages.BACKEND_SESSION.toArray(byte[][]::new));
        List<Event> expected = Event.expected(interest, Messages.BACKEND_SESSION);
        for (int split = 1; split < input.length; split++) {
            Outcome outcome = DecoderHarness.decode(backend(interest), Feed.WHOLE,
                    Arrays.copyOfRange(input, 0, split), Arrays.copyOfRange(input, split, input.length));
            assertEquals(expected, outcome.coalesced(), "split at " + split);
        }
    }

    @Test
    void passThroughBytesAreEmittedAsSoonAsTheHeaderIsComplete() {
        byte[] dataRow = Bytes.message('D', (short) 1, 8, Bytes.sequence(8));
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            for (int i = 0; i < PgFrame.HEADER_LENGTH - 1; i++) {
                assertEquals(List.of(), h.write(new byte[] {dataRow[i]}), "output before the header is complete");
            }
            assertEquals(List.of(Event.raw(Arrays.copyOf(dataRow, PgFrame.HEADER_LENGTH))),
                    h.write(new byte[] {dataRow[PgFrame.HEADER_LENGTH - 1]}));
            for (int i = PgFrame.HEADER_LENGTH; i < dataRow.length; i++) {
                assertEquals(List.of(Event.raw(new byte[] {dataRow[i]})), h.write(new byte[] {dataRow[i]}), "byte " + i);
            }
        }
    }

    @Test
    void frameOfInterestIsHeldBackUntilComplete() {
        byte[] ready = Bytes.message('Z', 'I');
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            for (int i = 0; i < ready.length - 1; i++) {
                assertEquals(List.of(), h.write(new byte[] {ready[i]}), "output after byte " + i);
            }
            assertEquals(List.of(Event.frame(ready)), h.write(new byte[] {ready[ready.length - 1]}));
        }
    }

    @Test
    void passThroughRunBeforeAnIncompleteFrameIsNotHeldBack() {
        byte[] dataRow = Bytes.message('D', (short) 1, 1, Messages.ascii("x"));
        byte[] complete = Bytes.message('C', "SELECT 1");
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('C'))) {
            assertEquals(List.of(Event.raw(dataRow)), h.write(concat(dataRow, Arrays.copyOf(complete, 7))));
            assertEquals(List.of(Event.frame(complete), Event.raw(dataRow)),
                    h.write(concat(Arrays.copyOfRange(complete, 7, complete.length), dataRow)));
        }
    }

    @Test
    void largePassThroughMessageIsRelayedChunkByChunk() {
        byte[] dataRow = Bytes.message('D', (short) 1, 100_000, Bytes.sequence(100_000));
        byte[] ready = Bytes.message('Z', 'T');
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            assertEquals(List.of(), h.write(Arrays.copyOfRange(dataRow, 0, 3)));
            assertEquals(List.of(Event.raw(Arrays.copyOfRange(dataRow, 0, 50_000))),
                    h.write(Arrays.copyOfRange(dataRow, 3, 50_000)));
            assertEquals(List.of(Event.raw(Arrays.copyOfRange(dataRow, 50_000, 90_000))),
                    h.write(Arrays.copyOfRange(dataRow, 50_000, 90_000)));
            assertEquals(List.of(Event.raw(Arrays.copyOfRange(dataRow, 90_000, dataRow.length)), Event.frame(ready)),
                    h.write(concat(Arrays.copyOfRange(dataRow, 90_000, dataRow.length), ready)));
        }
    }

    @Test
    void consecutivePassThroughMessagesInOneBufferComeOutAsOneSlice() {
        byte[] rows = concat(Bytes.message('D', (short) 0), Bytes.message('D', (short) 0), Bytes.message('C', "SELECT 2"));
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            assertEquals(List.of(Event.raw(rows)), h.write(rows));
        }
    }

    @Test
    void messageOfExactlyTheMaximumLengthIsAccepted() {
        byte[] atLimit = Bytes.message('d', Bytes.sequence(1024 - 4));
        try (DecoderHarness h = new DecoderHarness(PgFrameDecoder.forBackend(FrameInterest.of('d'), 1024))) {
            assertEquals(List.of(Event.frame(atLimit)), h.write(atLimit));
        }
        try (DecoderHarness h = new DecoderHarness(PgFrameDecoder.forBackend(FrameInterest.of(), 1024))) {
            assertEquals(List.of(Event.raw(atLimit)), h.write(atLimit));
        }
    }

    @Test
    void lengthOfIntegerMaxWaitsForTheBodyWhenTheLimitAllowsIt() {
        byte[] header = Bytes.of('d', Integer.MAX_VALUE);
        try (DecoderHarness h = new DecoderHarness(PgFrameDecoder.forBackend(FrameInterest.of('d'), Integer.MAX_VALUE))) {
            assertEquals(List.of(), h.write(header));
            assertEquals(List.of(), h.write(Bytes.sequence(100)));
        }
        try (DecoderHarness h = new DecoderHarness(PgFrameDecoder.forBackend(FrameInterest.of(), Integer.MAX_VALUE))) {
            assertEquals(List.of(Event.raw(header)), h.write(header));
            assertEquals(List.of(Event.raw(Bytes.sequence(100))), h.write(Bytes.sequence(100)));
        }
    }

    @Test
    void typeBytesAboveAsciiAreFramedByInterest() {
        byte[] high = Bytes.message((char) 0xfe, 1);
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of((char) 0xfe))) {
            assertEquals(List.of(Event.frame(high)), h.write(high));
        }
    }
}
