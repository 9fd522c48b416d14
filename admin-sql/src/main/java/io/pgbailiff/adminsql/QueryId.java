package io.pgbailiff.adminsql;

import java.util.Locale;

/**
 * A running statement's id: the session id's high 64 bits, then the statement's sequence number
 * (low 32 bits of it) and the node id (low 32 bits), so a cancel finds both session and statement.
 */
public record QueryId(long high, long low) {

    public static QueryId of(SessionSnapshot s) {
        return new QueryId(s.id().high(), (s.activeQuerySequence() << 32) | (s.nodeId() & 0xffffffffL));
    }

    public long sequence() {
        return low >>> 32;
    }

    public long nodeId() {
        return low & 0xffffffffL;
    }

    public String hex() {
        return SessionId.hex(high, low);
    }

    /** Whether this is the id of the statement the snapshot's session is running now. */
    public boolean matches(SessionSnapshot s) {
        return s.activeQuery() != null && s.id().high() == high && (s.nodeId() & 0xffffffffL) == nodeId()
                && (s.activeQuerySequence() & 0xffffffffL) == sequence();
    }

    /** Reads 32 hex digits or a UUID, any case. */
    public static QueryId parse(String text) {
        try {
            SessionId id = SessionId.parse(text);
            return new QueryId(id.high(), id.low());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid query ID '" + text + "'");
        }
    }

    @Override
    public String toString() {
        return hex().toLowerCase(Locale.ROOT);
    }
}
