package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static io.pgbailiff.protocol.Bytes.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Messages an inspector relays as is travel with the raw bytes around them; the others stop the decoder until delivered. */
@ExtendWith(LeakDetection.class)
class PgFrameDecoderInspectorTest {
    private static final byte[] BIND = Bytes.message('B', "", "s1", (short) 0, (short) 0, (short) 0);
    private static final byte[] EXECUTE = Bytes.message('E', "", 0);
    private static final byte[] SYNC = Bytes.message('S');
    private static final byte[] DATA_ROW = Bytes.message('D', (short) 1, 3, "abc");
    private static final byte[] COMPLETE = Bytes.message('C', "SELECT 1");
    private static final byte[] READY = Bytes.message('Z', (byte) 'I');

    /** Records, in order, what the inspector was shown and what reached the next handler. */
    private static final class Recorder extends ChannelInboundHandlerAdapter implements FrameInspector {
        final List<String> log = new ArrayList<>();
        private final Set<Character> refused;

        Recorder(Character... refused) {
            this.refused = Set.of(refused);
        }

        @Override
        public boolean relayAsIs(PgMessage message) {
            log.add("inspect " + (char) message.type());
            return !refused.contains((char) message.type());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            log.add(msg instanceof PgFrame f ? "frame " + (char) f.type()
                    : msg instanceof ByteBuf b ? "raw " + b.readableBytes() : "startup");
            ctx.fireChannelRead(msg);
        }
    }

    private static DecoderHarness harness(PgFrameDecoder decoder, Recorder recorder) {
        DecoderHarness h = new DecoderHarness(decoder);
        decoder.inspector(recorder);
        h.channel().pipeline().addLast(recorder);
        return h;
    }

    @Test
    void messagesRelayedAsIsTravelAsOneBufferWithTheRawBytesAroundThem() {
        PgFrameDecoder decoder = PgFrameDecoder.forBackend(FrameInterest.of('Z'), DecoderHarness.MAX_MESSAGE_LENGTH);
        Recorder recorder = new Recorder();
        try (DecoderHarness h = harness(decoder, recorder)) {
            byte[] result = concat(DATA_ROW, COMPLETE, READY, DATA_ROW, COMPLETE, READY);
            assertEquals(List.of(Event.raw(result)), h.write(result));
            assertEquals(List.of("inspect Z", "inspect Z", "raw " + result.length), recorder.log);
        }
    }

    @Test
    void aRefusedMessageIsDeliveredBeforeTheNextOneIsInspected() {
        PgFrameDecoder decoder = PgFrameDecoder.forClient(FrameInterest.allExcept('d'), DecoderHarness.MAX_MESSAGE_LENGTH);
        Recorder recorder = new Recorder('E');
        try (DecoderHarness h = harness(decoder, recorder)) {
            h.write(Messages.STARTUP_3_0);
            recorder.log.clear();
            assertEquals(List.of(Event.raw(BIND), Event.frame(EXECUTE), Event.raw(SYNC)), h.write(concat(BIND, EXECUTE, SYNC)));
            assertEquals(List.of("inspect B", "inspect E", "raw " + BIND.length, "frame E", "inspect S", "raw " + SYNC.length),
                    recorder.log);
        }
    }

    @Test
    void onlyCompleteMessagesAreInspected() {
        PgFrameDecoder decoder = PgFrameDecoder.forClient(FrameInterest.allExcept('d'), DecoderHarness.MAX_MESSAGE_LENGTH);
        Recorder recorder = new Recorder();
        try (DecoderHarness h = harness(decoder, recorder)) {
            h.write(Messages.STARTUP_3_0);
            recorder.log.clear();
            byte[] all = concat(BIND, EXECUTE, SYNC);
            int cut = BIND.length + 3;
            assertEquals(List.of(Event.raw(BIND)), h.write(Arrays.copyOf(all, cut)));
            assertEquals(List.of(Event.raw(EXECUTE, SYNC)), h.write(Arrays.copyOfRange(all, cut, all.length)));
            assertEquals(List.of("inspect B", "raw " + BIND.length, "inspect E", "inspect S", "raw " + (EXECUTE.length + SYNC.length)),
                    recorder.log);
        }
    }

    @Test
    void aMessageTheInspectorCannotReadIsDeliveredAsAFrameAfterTheBytesBeforeIt() {
        byte[] truncatedReady = Bytes.message('Z');
        PgFrameDecoder decoder = PgFrameDecoder.forBackend(FrameInterest.of('Z'), DecoderHarness.MAX_MESSAGE_LENGTH);
        decoder.inspector(m -> m.payload().readByte() == 'I');
        try (DecoderHarness h = new DecoderHarness(decoder)) {
            assertEquals(List.of(Event.raw(DATA_ROW, COMPLETE, READY), Event.frame(truncatedReady)),
                    h.write(concat(DATA_ROW, COMPLETE, READY, truncatedReady)));
        }
    }

    /** The inspected message is the decoder's buffer narrowed to the body: it must end where the message ends. */
    @Test
    void anInspectorReadsOnlyItsOwnMessageAndEachPayloadStartsAgain() {
        byte[] truncatedReady = Bytes.message('Z');
        List<String> seen = new ArrayList<>();
        PgFrameDecoder decoder = PgFrameDecoder.forBackend(FrameInterest.of('Z', 'C'), DecoderHarness.MAX_MESSAGE_LENGTH);
        decoder.inspector(m -> {
            if (m.type() == 'C') {
                seen.add(BackendMessage.CommandComplete.decode(m).tag() + "/" + BackendMessage.CommandComplete.decode(m).tag());
                return true;
            }
            seen.add("status " + (char) BackendMessage.ReadyForQuery.status(m));
            return true;
        });
        try (DecoderHarness h = new DecoderHarness(decoder)) {
            assertEquals(List.of(Event.raw(DATA_ROW, COMPLETE, READY), Event.frame(truncatedReady), Event.raw(READY)),
                    h.write(concat(DATA_ROW, COMPLETE, READY, truncatedReady, READY)));
        }
        assertEquals(List.of("SELECT 1/SELECT 1", "status I", "status I"), seen);
    }
}
