package io.pgbailiff.adminsql;

import java.time.Instant;
import java.util.List;

/** What one evaluation runs against: who asks, when (now() is fixed per statement), the parameters. */
record Env(Caller caller, Instant now, List<String> params, SessionDirectory directory) {

    String param(int index) {
        if (index < 1 || index > params.size()) {
            throw new AdminSqlException(io.pgbailiff.protocol.SqlState.PROTOCOL_VIOLATION,
                    "bind message supplies " + params.size() + " parameters, but the statement requires at least " + index);
        }
        return params.get(index - 1);
    }
}
