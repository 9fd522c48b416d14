package io.pgbailiff.protocol;

/**
 * An error or notice pgbailiff reports itself, encoded as ErrorResponse or NoticeResponse.
 *
 * @param position 1-based character position in the statement text, or 0 when none applies
 */
public record PgError(Severity severity, SqlState sqlState, String message, String detail, String hint, int position) {

    public enum Severity { ERROR, FATAL, WARNING, NOTICE }

    public static PgError error(SqlState state, String message) {
        return new PgError(Severity.ERROR, state, message, null, null, 0);
    }

    public static PgError fatal(SqlState state, String message) {
        return new PgError(Severity.FATAL, state, message, null, null, 0);
    }

    public PgError withDetail(String detail) {
        return new PgError(severity, sqlState, message, detail, hint, position);
    }

    public PgError withHint(String hint) {
        return new PgError(severity, sqlState, message, detail, hint, position);
    }

    public PgError withPosition(int position) {
        return new PgError(severity, sqlState, message, detail, hint, position);
    }
}
