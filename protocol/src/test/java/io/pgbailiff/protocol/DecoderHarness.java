package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A {@link PgFrameDecoder} in an {@link EmbeddedChannel}. Every input is a fresh leak-tracked
 * {@link Unpooled} buffer; every output is released as soon as it is read; {@link #close()} finishes
 * the channel and asserts that no input buffer is still referenced.
 */
final class DecoderHarness implements AutoCloseable {
    static final int MAX_MESSAGE_LENGTH = 1 << 20;

    enum Feed {
        /** Each segment as one buffer. */
        WHOLE,
        /** Each byte as its own one-byte buffer. */
        BYTE_BY_BYTE
    }

    /** What a feed produced: outputs up to and including the failing write, the failure, and outputs after it. */
    record Outcome(List<Event> events, ProtocolException failure, List<Event> afterFailure) {
        List<Event> coalesced() {
            return Event.coalesce(events);
        }
    }

    private final EmbeddedChannel channel;
    private final List<ByteBuf> inputs = new ArrayList<>();

    DecoderHarness(PgFrameDecoder decoder) {
        channel = new EmbeddedChannel(decoder);
    }

    static DecoderHarness client(FrameInterest interest) {
        return new DecoderHarness(PgFrameDecoder.forClient(interest, MAX_MESSAGE_LENGTH));
    }

    static DecoderHarness backend(FrameInterest interest) {
        return new DecoderHarness(PgFrameDecoder.forBackend(interest, MAX_MESSAGE_LENGTH));
    }

    static Outcome decode(Supplier<PgFrameDecoder> decoder, Feed feed, byte[]... segments) {
        try (DecoderHarness h = new DecoderHarness(decoder.get())) {
            return h.feed(feed, segments);
        }
    }

    EmbeddedChannel channel() {
        return channel;
    }

    List<ByteBuf> inputs() {
        return inputs;
    }

    /** Writes the bytes as one buffer and returns, released, what the decoder emitted. */
    List<Event> write(byte[] bytes) {
        channel.writeInbound(input(bytes));
        return drain();
    }

    ByteBuf input(byte[] bytes) {
        ByteBuf in = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
        inputs.add(in);
        return in;
    }

    /** Writes the bytes as one buffer, which must be rejected; what was emitted before the failure stays queued. */
    ProtocolException writeRejected(byte[] bytes) {
        DecoderException e = assertThrows(DecoderException.class, () -> channel.writeInbound(input(bytes)));
        return assertInstanceOf(ProtocolException.class, e.getCause());
    }

    List<Event> drain() {
        List<Event> events = new ArrayList<>();
        Object msg;
        while ((msg = channel.readInbound()) != null) {
            events.add(Event.of(msg));
        }
        return events;
    }

    Outcome feed(Feed feed, byte[]... segments) {
        List<byte[]> writes = new ArrayList<>();
        for (byte[] segment : segments) {
            if (feed == Feed.WHOLE) {
                writes.add(segment);
            } else {
                for (byte b : segment) {
                    writes.add(new byte[] {b});
                }
            }
        }
        List<Event> events = new ArrayList<>();
        List<Event> after = new ArrayList<>();
        ProtocolException failure = null;
        for (byte[] w : writes) {
            if (failure != null) {
                after.addAll(write(w));
                continue;
            }
            try {
                events.addAll(write(w));
            } catch (DecoderException e) {
                failure = assertInstanceOf(ProtocolException.class, e.getCause());
                events.addAll(drain());
            }
        }
        return new Outcome(events, failure, after);
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
        for (int i = 0; i < inputs.size(); i++) {
            assertEquals(0, inputs.get(i).refCnt(), "input buffer " + i + " still referenced");
        }
    }
}
