package io.pgbailiff.protocol;

/**
 * A peer broke the wire protocol (impossible length, unknown startup code, oversized packet,
 * data where none may be). The connection that produced it is answered with a FATAL
 * {@link SqlState#PROTOCOL_VIOLATION} and closed; nothing else is affected.
 */
public final class ProtocolException extends RuntimeException {
    private final SqlState sqlState;

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(SqlState sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    public SqlState sqlState() {
        return sqlState;
    }
}
