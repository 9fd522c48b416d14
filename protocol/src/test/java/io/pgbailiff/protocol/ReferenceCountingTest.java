package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static io.pgbailiff.protocol.Bytes.concat;
import static io.pgbailiff.protocol.Messages.STARTUP_3_0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every output of the decoder is a retained slice of its input; releasing them all must free every input. */
@ExtendWith(LeakDetection.class)
class ReferenceCountingTest {
    private static final byte[] READY = Bytes.message('Z', 'I');
    private static final byte[] ROW = Bytes.message('D', (short) 1, 2, Messages.ascii("42"));

    @Test
    void frameKeepsItsInputAliveUntilReleased() {
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            ByteBuf in = h.input(READY);
            h.channel().writeInbound(in);
            PgFrame frame = assertInstanceOf(PgFrame.class, h.channel().readInbound());
            h.channel().finishAndReleaseAll();
            assertTrue(in.refCnt() > 0, "input freed while a frame still refers to it");
            assertEquals(Bytes.hex(READY), Bytes.hex(Bytes.readable(frame.content())));
            frame.release();
            assertEquals(0, in.refCnt());
        }
    }

    @Test
    void rawSliceKeepsItsInputAliveUntilReleased() {
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            ByteBuf in = h.input(ROW);
            h.channel().writeInbound(in);
            ByteBuf raw = h.channel().readInbound();
            h.channel().finishAndReleaseAll();
            assertTrue(in.refCnt() > 0, "input freed while a raw slice still refers to it");
            assertEquals(Bytes.hex(ROW), Bytes.hex(Bytes.readable(raw)));
            raw.release();
            assertEquals(0, in.refCnt());
        }
    }

    @Test
    void retainedFrameOutlivesTheChannel() {
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            ByteBuf in = h.input(READY);
            h.channel().writeInbound(in);
            PgFrame frame = h.channel().readInbound();
            frame.retain();
            h.channel().finishAndReleaseAll();
            assertFalse(frame.release(), "a retained frame survives one release");
            assertTrue(in.refCnt() > 0);
            assertEquals(BackendMessage.ReadyForQuery.IDLE, BackendMessage.ReadyForQuery.status(frame));
            assertTrue(frame.release());
            assertEquals(0, in.refCnt());
        }
    }

    @Test
    void unreadOutputsAreReleasedWithTheChannel() {
        try (DecoderHarness h = DecoderHarness.client(Messages.PROXY_FRONTEND_INTEREST)) {
            ByteBuf in = h.input(concat(STARTUP_3_0, concat(Messages.frontendSession().toArray(byte[][]::new))));
            h.channel().writeInbound(in);
            assertTrue(in.refCnt() > 0);
            h.channel().finishAndReleaseAll();
            assertEquals(0, in.refCnt());
        }
    }

    @Test
    void incompleteFrameAtCloseDoesNotHoldItsInput() {
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            ByteBuf in = h.input(concat(READY, new byte[] {'Z', 0, 0}));
            h.channel().writeInbound(in);
            ((PgFrame) h.channel().readInbound()).release();
            assertNull(h.channel().readInbound());
            h.channel().finishAndReleaseAll();
            assertEquals(0, in.refCnt());
        }
    }

    @Test
    void inputIsFreedAfterAFailureOnceTheOutputsBeforeItAreReleased() {
        try (DecoderHarness h = DecoderHarness.backend(FrameInterest.of('Z'))) {
            ByteBuf in = h.input(concat(ROW, READY, Bytes.of('D', 1)));
            DecoderException e = assertThrows(DecoderException.class, () -> h.channel().writeInbound(in));
            assertInstanceOf(ProtocolException.class, e.getCause());
            assertEquals(List.of(Event.raw(ROW), Event.frame(READY)), h.drain());
            assertEquals(0, in.refCnt());
        }
    }

    @Test
    void startupPacketsHoldNoBuffer() {
        try (DecoderHarness h = DecoderHarness.client(FrameInterest.of('Q'))) {
            ByteBuf in = h.input(STARTUP_3_0);
            h.channel().writeInbound(in);
            assertEquals(0, in.refCnt());
            assertInstanceOf(StartupPacket.StartupMessage.class, h.channel().readInbound());
        }
    }

    @Test
    void everyOneByteInputIsFreed() {
        byte[] session = concat(STARTUP_3_0, concat(Messages.frontendSession().toArray(byte[][]::new)));
        try (DecoderHarness h = DecoderHarness.client(Messages.PROXY_FRONTEND_INTEREST)) {
            h.feed(DecoderHarness.Feed.BYTE_BY_BYTE, session);
            assertEquals(session.length, h.inputs().size());
            h.channel().finishAndReleaseAll();
            for (int i = 0; i < session.length; i++) {
                assertEquals(0, h.inputs().get(i).refCnt(), "one-byte input " + i);
            }
        }
    }

    @Test
    void payloadAndDecodingShareTheFrameReferenceCount() {
        byte[] query = Bytes.message('Q', "SELECT 1");
        try (DecoderHarness h = DecoderHarness.client(FrameInterest.of('Q'))) {
            h.channel().writeInbound(h.input(concat(STARTUP_3_0, query)));
            h.channel().readInbound();
            PgFrame frame = h.channel().readInbound();
            int before = frame.refCnt();
            assertEquals(before, frame.payload().refCnt());
            assertEquals("SELECT 1", FrontendMessage.Query.decode(frame).sql());
            assertEquals(before, frame.refCnt());
            assertTrue(frame.release());
            assertEquals(0, frame.refCnt());
        }
    }
}
