package io.pgbailiff.protocol;

/**
 * The set of message types a receiver acts on. Frames of these types are delivered whole as
 * {@link PgFrame}s; all others are relayed as raw bytes, without waiting for them to be complete.
 */
public final class FrameInterest {
    private final boolean[] types = new boolean[256];

    private FrameInterest() {
    }

    public static FrameInterest of(char... types) {
        FrameInterest interest = new FrameInterest();
        for (char t : types) {
            interest.types[t & 0xff] = true;
        }
        return interest;
    }

    /** Every type except the given ones. */
    public static FrameInterest allExcept(char... types) {
        FrameInterest interest = new FrameInterest();
        java.util.Arrays.fill(interest.types, true);
        for (char t : types) {
            interest.types[t & 0xff] = false;
        }
        return interest;
    }

    public boolean contains(byte type) {
        return types[type & 0xff];
    }
}
