package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A decoder output, copied out of its buffer so that the buffer can be released at once. */
sealed interface Event {

    /** Pass-through bytes, emitted as a raw {@link ByteBuf}. */
    record Raw(String hex) implements Event {
    }

    /** A whole typed message, emitted as a {@link PgFrame}. */
    record Frame(char type, String hex) implements Event {
    }

    record Startup(StartupPacket packet) implements Event {
    }

    static Raw raw(byte[]... parts) {
        return new Raw(Bytes.hex(Bytes.concat(parts)));
    }

    static Frame frame(byte[] message) {
        return new Frame((char) (message[0] & 0xff), Bytes.hex(message));
    }

    /** Converts and releases one decoder output. */
    static Event of(Object msg) {
        try {
            if (msg instanceof PgFrame f) {
                ByteBuf c = f.content();
                assertEquals(f.type(), c.getByte(c.readerIndex()), "frame type matches its first byte");
                assertEquals(c.readableBytes() - 1, c.getInt(c.readerIndex() + 1), "frame holds exactly one message");
                return new Frame((char) (f.type() & 0xff), Bytes.hex(Bytes.readable(c)));
            }
            if (msg instanceof ByteBuf b) {
                assertTrue(b.isReadable(), "raw output must not be empty");
                return new Raw(Bytes.hex(Bytes.readable(b)));
            }
            if (msg instanceof StartupPacket p) {
                return new Startup(p);
            }
            return fail("unexpected decoder output " + msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** Merges adjacent raw outputs: how pass-through bytes are split across outputs is not part of the contract. */
    static List<Event> coalesce(List<Event> events) {
        List<Event> merged = new ArrayList<>();
        for (Event e : events) {
            if (e instanceof Raw r && !merged.isEmpty() && merged.get(merged.size() - 1) instanceof Raw prev) {
                merged.set(merged.size() - 1, new Raw(prev.hex() + r.hex()));
            } else {
                merged.add(e);
            }
        }
        return merged;
    }

    /** What the decoder contract promises for a run of typed messages under the given interest. */
    static List<Event> expected(FrameInterest interest, List<byte[]> messages) {
        List<Event> events = new ArrayList<>();
        for (byte[] m : messages) {
            events.add(interest.contains(m[0]) ? frame(m) : raw(m));
        }
        return coalesce(events);
    }

    /** The bytes of all typed-phase outputs, in order. */
    static String wireHex(List<Event> events) {
        StringBuilder sb = new StringBuilder();
        for (Event e : events) {
            if (e instanceof Raw r) {
                sb.append(r.hex());
            } else if (e instanceof Frame f) {
                sb.append(f.hex());
            }
        }
        return sb.toString();
    }
}
