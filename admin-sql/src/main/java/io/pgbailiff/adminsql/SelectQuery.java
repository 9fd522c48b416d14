package io.pgbailiff.adminsql;

import java.util.List;

/**
 * A select over session sources ({@code [SHOW SESSIONS]}, {@code WITH x AS (SHOW SESSIONS)},
 * {@code md_active_server_connections()}) or calling the md_* functions, compiled when parsed.
 */
public final class SelectQuery implements AdminStatement {
    private final String sql;
    private final SelectPlan plan;
    private final int parameterCount;

    SelectQuery(String sql, SelectPlan plan, int parameterCount) {
        this.sql = sql;
        this.plan = plan;
        this.parameterCount = parameterCount;
    }

    /** The select's text as written. */
    public String sql() {
        return sql;
    }

    @Override
    public List<Column> columns() {
        return List.copyOf(plan.columns);
    }

    @Override
    public int parameterCount() {
        return parameterCount;
    }

    SelectPlan plan() {
        return plan;
    }

    @Override
    public String toString() {
        return "SelectQuery[" + sql + "]";
    }
}
