package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The message a {@link FrameInspector} is shown: the decoder's own buffer, narrowed to the
 * message's body by its indices, so that looking at a message allocates nothing. One instance
 * per decoder is reused for every message; the decoder puts the buffer's indices back afterwards.
 */
final class InspectedMessage implements PgMessage {
    private byte type;
    private ByteBuf buffer;
    private int payloadStart;
    private int end;

    /** Shows the message of {@code type} at {@code start} whose length word says {@code length}. */
    InspectedMessage show(byte type, ByteBuf buffer, int start, int length) {
        this.type = type;
        this.buffer = buffer;
        this.payloadStart = start + PgFrame.HEADER_LENGTH;
        this.end = start + length + 1;
        return this;
    }

    void clear() {
        buffer = null;
    }

    @Override
    public byte type() {
        return type;
    }

    @Override
    public ByteBuf payload() {
        return buffer.setIndex(payloadStart, end);
    }

    @Override
    public String toString() {
        return "InspectedMessage[" + (char) type + ", " + (end - payloadStart + PgFrame.HEADER_LENGTH) + " bytes]";
    }
}
