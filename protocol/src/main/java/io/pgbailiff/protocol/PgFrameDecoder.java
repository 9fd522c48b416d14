package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits a PostgreSQL byte stream into what the proxy needs, without copying.
 *
 * <pre>
 *  STARTUP ──SSLRequest/GSSENCRequest──▶ STARTUP   (the answer and any TLS handshake come first;
 *     │                                             bytes pipelined behind the request are refused)
 *     ├──CancelRequest──▶ DONE
 *     └──StartupMessage──▶ TYPED ◀─┐
 *                                   └── one message at a time: type byte, int32 length, payload
 * </pre>
 *
 * In the typed phase, a message whose type is in the {@link FrameInterest} is emitted whole as a
 * {@link PgFrame}; any other message is emitted as raw {@link ByteBuf} slices as soon as its bytes
 * arrive, consecutive ones coalesced into one slice, so a large result or COPY stream is relayed
 * without being buffered. Both are retained slices of the received buffer.
 *
 * <p>With a {@link FrameInspector}, a message of interest is first shown to it; one it relays as
 * is joins the raw bytes around it instead of being emitted as a frame.
 *
 * <p>A decoder for the backend side starts in the typed phase. Lengths below 4, above the
 * configured maximum, or a startup packet above {@link StartupPacket#MAX_STARTUP_PACKET_LENGTH}
 * raise a {@link ProtocolException}, after which the decoder discards all further input.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    private enum Phase { STARTUP, TYPED, DONE }

    private FrameInterest interest;
    private FrameInspector inspector;
    private final InspectedMessage inspected = new InspectedMessage();
    private final int maxMessageLength;
    private Phase phase;
    /** Bytes still to relay of an uninteresting message whose header has been seen. */
    private long passThroughRemaining;

    private PgFrameDecoder(Phase phase, FrameInterest interest, int maxMessageLength) {
        this.phase = phase;
        this.interest = interest;
        this.maxMessageLength = maxMessageLength;
    }

    /** A decoder for a client connection: startup packets first, then typed messages. */
    public static PgFrameDecoder forClient(FrameInterest interest, int maxMessageLength) {
        return new PgFrameDecoder(Phase.STARTUP, interest, maxMessageLength);
    }

    /** A decoder for a backend connection: typed messages only. */
    public static PgFrameDecoder forBackend(FrameInterest interest, int maxMessageLength) {
        return new PgFrameDecoder(Phase.TYPED, interest, maxMessageLength);
    }

    /**
     * Changes which message types are delivered whole. Takes effect for the next message header
     * decoded; call it only on the channel's event loop, between messages.
     */
    public void interest(FrameInterest interest) {
        this.interest = interest;
    }

    /** Shows every complete message of interest to the inspector first; see {@link FrameInspector}. */
    public void inspector(FrameInspector inspector) {
        this.inspector = inspector;
    }

    /**
     * True when no message has been relayed in part: everything emitted so far ends on a message
     * boundary. Meaningful after a read has been fully delivered ({@code channelReadComplete}).
     */
    public boolean atMessageBoundary() {
        return passThroughRemaining == 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (phase) {
            case STARTUP -> decodeStartup(in, out);
            case TYPED -> decodeTyped(in, out);
            case DONE -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeStartup(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > StartupPacket.MAX_STARTUP_PACKET_LENGTH) {
            fail(in, "invalid length of startup packet");
        }
        if (in.readableBytes() < length) {
            return;
        }
        ByteBuf packet = in.readSlice(length).skipBytes(4);
        int code = packet.readInt();
        switch (code) {
            case StartupPacket.SSL_REQUEST_CODE, StartupPacket.GSSENC_REQUEST_CODE -> {
                if (length != 8) {
                    fail(in, "invalid length of " + (code == StartupPacket.SSL_REQUEST_CODE ? "SSL" : "GSSENC") + " request");
                }
                if (in.isReadable()) {
                    // CVE-2021-23214: nothing sent before the encryption answer may be trusted.
                    fail(in, "received unencrypted data after " + (code == StartupPacket.SSL_REQUEST_CODE ? "SSL" : "GSSAPI encryption") + " request");
                }
                out.add(code == StartupPacket.SSL_REQUEST_CODE ? new StartupPacket.SslRequest() : new StartupPacket.GssEncRequest());
            }
            case StartupPacket.CANCEL_REQUEST_CODE -> {
                int keyLength = length - 12;
                if (keyLength < 4 || keyLength > StartupPacket.MAX_CANCEL_KEY_LENGTH) {
                    fail(in, "invalid length of cancel request packet");
                }
                int pid = packet.readInt();
                byte[] key = new byte[keyLength];
                packet.readBytes(key);
                phase = Phase.DONE;
                in.skipBytes(in.readableBytes());
                out.add(new StartupPacket.CancelRequest(pid, key));
            }
            default -> {
                if (StartupPacket.majorVersion(code) != 3) {
                    phase = Phase.DONE;
                    in.skipBytes(in.readableBytes());
                    throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                            "unsupported frontend protocol " + StartupPacket.majorVersion(code) + "."
                                    + StartupPacket.minorVersion(code) + ": server supports 3.0 to 3.2");
                }
                Map<String, String> params = readStartupParameters(packet, in);
                phase = Phase.TYPED;
                out.add(new StartupPacket.StartupMessage(code, params));
            }
        }
    }

    private Map<String, String> readStartupParameters(ByteBuf packet, ByteBuf in) {
        Map<String, String> params = new LinkedHashMap<>();
        while (true) {
            String name = readCString(packet, in);
            if (name.isEmpty()) {
                break;
            }
            params.put(name, readCString(packet, in));
        }
        if (packet.isReadable()) {
            fail(in, "invalid startup packet layout: expected terminator as last byte");
        }
        return params;
    }

    private String readCString(ByteBuf packet, ByteBuf in) {
        int end = packet.indexOf(packet.readerIndex(), packet.writerIndex(), (byte) 0);
        if (end < 0) {
            fail(in, "invalid startup packet layout: expected terminator as last byte");
        }
        String s = packet.toString(packet.readerIndex(), end - packet.readerIndex(), StandardCharsets.UTF_8);
        packet.readerIndex(end + 1);
        return s;
    }

    private void decodeTyped(ByteBuf in, List<Object> out) {
        int runStart = -1;
        while (in.isReadable()) {
            if (passThroughRemaining > 0) {
                if (runStart < 0) {
                    runStart = in.readerIndex();
                }
                int n = (int) Math.min(passThroughRemaining, in.readableBytes());
                in.skipBytes(n);
                passThroughRemaining -= n;
                continue;
            }
            if (in.readableBytes() < PgFrame.HEADER_LENGTH) {
                break;
            }
            int start = in.readerIndex();
            byte type = in.getByte(start);
            int length = in.getInt(start + 1);
            if (length < 4 || length > maxMessageLength) {
                emitRun(in, runStart, start, out);
                fail(in, "invalid message length " + length + " for message type \"" + printable(type) + "\"");
            }
            if (!interest.contains(type)) {
                passThroughRemaining = length + 1L;
                continue;
            }
            if (in.readableBytes() < length + 1L) {
                break;
            }
            if (relayedAsIs(type, in, start, length)) {
                if (runStart < 0) {
                    runStart = start;
                }
                in.readerIndex(start + length + 1);
                continue;
            }
            emitRun(in, runStart, start, out);
            out.add(new PgFrame(type, in.retainedSlice(start, length + 1)));
            in.readerIndex(start + length + 1);
            if (inspector != null) {
                // the receiver acts on this frame before the next message is inspected
                return;
            }
            runStart = -1;
        }
        emitRun(in, runStart, in.readerIndex(), out);
    }

    private boolean relayedAsIs(byte type, ByteBuf in, int start, int length) {
        if (inspector == null) {
            return false;
        }
        int readerIndex = in.readerIndex();
        int writerIndex = in.writerIndex();
        try {
            return inspector.relayAsIs(inspected.show(type, in, start, length));
        } catch (RuntimeException malformed) {
            // the receiver gets the frame, and its own handling reports what is wrong with it
            return false;
        } finally {
            inspected.clear();
            in.setIndex(readerIndex, writerIndex);
        }
    }

    private static void emitRun(ByteBuf in, int runStart, int runEnd, List<Object> out) {
        if (runStart >= 0 && runEnd > runStart) {
            out.add(in.retainedSlice(runStart, runEnd - runStart));
        }
    }

    private void fail(ByteBuf in, String message) {
        phase = Phase.DONE;
        in.skipBytes(in.readableBytes());
        throw new ProtocolException(message);
    }

    private static String printable(byte type) {
        return type >= 0x20 && type < 0x7f ? String.valueOf((char) type) : String.format("\\x%02x", type & 0xff);
    }
}
