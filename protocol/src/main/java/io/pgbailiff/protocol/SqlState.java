package io.pgbailiff.protocol;

/**
 * The SQLSTATE codes pgbailiff itself reports, named as in PostgreSQL's {@code errcodes.txt}.
 * Every error the proxy writes takes its code from here, never from a string literal.
 */
public enum SqlState {
    SUCCESSFUL_COMPLETION("00000"),
    CARDINALITY_VIOLATION("21000"),
    CONNECTION_EXCEPTION("08000"),
    CONNECTION_FAILURE("08006"),
    SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION("08001"),
    PROTOCOL_VIOLATION("08P01"),
    FEATURE_NOT_SUPPORTED("0A000"),
    INVALID_PARAMETER_VALUE("22023"),
    INVALID_TEXT_REPRESENTATION("22P02"),
    INVALID_DATETIME_FORMAT("22007"),
    INVALID_ROW_COUNT_IN_LIMIT_CLAUSE("2201W"),
    INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE("2201X"),
    INVALID_TRANSACTION_STATE("25000"),
    IN_FAILED_SQL_TRANSACTION("25P02"),
    IDLE_IN_TRANSACTION_SESSION_TIMEOUT("25P03"),
    INVALID_AUTHORIZATION_SPECIFICATION("28000"),
    INVALID_PASSWORD("28P01"),
    INVALID_CATALOG_NAME("3D000"),
    INVALID_SQL_STATEMENT_NAME("26000"),
    INVALID_CURSOR_NAME("34000"),
    SYNTAX_ERROR("42601"),
    STATEMENT_TOO_COMPLEX("54001"),
    INSUFFICIENT_PRIVILEGE("42501"),
    UNDEFINED_OBJECT("42704"),
    UNDEFINED_FUNCTION("42883"),
    UNDEFINED_COLUMN("42703"),
    INVALID_COLUMN_REFERENCE("42P10"),
    GROUPING_ERROR("42803"),
    DUPLICATE_PREPARED_STATEMENT("42P05"),
    TOO_MANY_CONNECTIONS("53300"),
    QUERY_CANCELED("57014"),
    ADMIN_SHUTDOWN("57P01"),
    CANNOT_CONNECT_NOW("57P03"),
    IDLE_SESSION_TIMEOUT("57P05"),
    INTERNAL_ERROR("XX000");

    private final String code;

    SqlState(String code) {
        this.code = code;
    }

    /** The state with this code, or null if pgbailiff does not name it. */
    public static SqlState fromCode(String code) {
        for (SqlState s : values()) {
            if (s.code.equals(code)) {
                return s;
            }
        }
        return null;
    }

    /** The five-character code as sent in the {@code C} field of ErrorResponse. */
    public String code() {
        return code;
    }
}
