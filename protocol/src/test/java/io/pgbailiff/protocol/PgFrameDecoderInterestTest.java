package io.pgbailiff.protocol;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Changing the interest between messages, and knowing whether a message was relayed only in part. */
class PgFrameDecoderInterestTest {
    private static final byte[] DATA_ROW = Bytes.message('D', (short) 1, 3, "abc");
    private static final byte[] READY = Bytes.message('Z', (byte) 'I');

    @Test
    void aNewInterestAppliesFromTheNextMessage() {
        PgFrameDecoder decoder = PgFrameDecoder.forBackend(FrameInterest.of('Z'), DecoderHarness.MAX_MESSAGE_LENGTH);
        try (DecoderHarness h = new DecoderHarness(decoder)) {
            assertEquals(List.of(Event.raw(DATA_ROW), Event.frame(READY)), h.write(Bytes.concat(DATA_ROW, READY)));
            decoder.interest(FrameInterest.allExcept());
            assertEquals(List.of(Event.frame(DATA_ROW), Event.frame(READY)), h.write(Bytes.concat(DATA_ROW, READY)));
        }
    }

    @Test
    void atMessageBoundaryIsFalseWhileAPassThroughMessageIsRelayedInPart() {
        PgFrameDecoder decoder = PgFrameDecoder.forBackend(FrameInterest.of('Z'), DecoderHarness.MAX_MESSAGE_LENGTH);
        try (DecoderHarness h = new DecoderHarness(decoder)) {
            assertTrue(decoder.atMessageBoundary());
            h.write(java.util.Arrays.copyOf(DATA_ROW, 7));
            assertFalse(decoder.atMessageBoundary(), "part of a DataRow went out");
            h.write(java.util.Arrays.copyOfRange(DATA_ROW, 7, DATA_ROW.length));
            assertTrue(decoder.atMessageBoundary());
            h.write(java.util.Arrays.copyOf(READY, 3));
            assertTrue(decoder.atMessageBoundary(), "a partial frame of interest is held back, not relayed");
            assertEquals(List.of(Event.frame(READY)), h.write(java.util.Arrays.copyOfRange(READY, 3, READY.length)));
        }
    }
}
