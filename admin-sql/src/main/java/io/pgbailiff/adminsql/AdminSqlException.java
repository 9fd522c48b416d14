package io.pgbailiff.adminsql;

import io.pgbailiff.protocol.SqlState;

/**
 * An error the proxy reports to the client as an ErrorResponse. {@code position} is the 1-based
 * character position in the statement text (the {@code P} field), or 0 when there is none.
 */
public final class AdminSqlException extends RuntimeException {
    private final SqlState state;
    private final String hint;
    private final int position;

    public AdminSqlException(SqlState state, String message, String hint, int position) {
        super(message);
        this.state = state;
        this.hint = hint;
        this.position = position;
    }

    public AdminSqlException(SqlState state, String message) {
        this(state, message, null, 0);
    }

    public SqlState state() {
        return state;
    }

    public String hint() {
        return hint;
    }

    public int position() {
        return position;
    }

    static AdminSqlException syntax(String near, int position) {
        String msg = near == null ? "syntax error at end of input" : "syntax error at or near \"" + near + "\"";
        return new AdminSqlException(SqlState.SYNTAX_ERROR, msg, null, position);
    }

    static AdminSqlException unsupported(String what) {
        return new AdminSqlException(SqlState.FEATURE_NOT_SUPPORTED, what + " is not supported in a session-control statement",
                SelectCompiler.SUPPORTED_HINT, 0);
    }
}
