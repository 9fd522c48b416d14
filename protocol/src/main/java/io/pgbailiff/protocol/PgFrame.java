package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One complete typed message, as received: {@link #content()} is a retained slice holding the
 * type byte, the length and the payload, so it can be written on unchanged.
 * Only message types the receiving side acts on are framed this way; the rest pass as raw bytes
 * (see {@link PgFrameDecoder}).
 */
public final class PgFrame extends DefaultByteBufHolder implements PgMessage {
    /** Type byte plus the 4-byte length. */
    public static final int HEADER_LENGTH = 5;

    private final byte type;

    public PgFrame(byte type, ByteBuf frame) {
        super(frame);
        this.type = type;
    }

    @Override
    public byte type() {
        return type;
    }

    /** The message body after the header, as a view that shares the frame's reference count. */
    @Override
    public ByteBuf payload() {
        ByteBuf c = content();
        return c.slice(c.readerIndex() + HEADER_LENGTH, c.readableBytes() - HEADER_LENGTH);
    }

    @Override
    public PgFrame replace(ByteBuf content) {
        return new PgFrame(type, content);
    }

    @Override
    public String toString() {
        return "PgFrame[" + (char) type + ", " + content().readableBytes() + " bytes]";
    }
}
