package io.pgbailiff.adminsql;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The session sources of SPEC §2.1, each a list of columns and a way to build its rows. */
enum VirtualTable {
    SESSIONS("sessions", List.of(
            new Column("node_id", PgType.INT8), new Column("session_id", PgType.TEXT), new Column("status", PgType.TEXT),
            new Column("user_name", PgType.TEXT), new Column("authentication_method", PgType.TEXT),
            new Column("client_address", PgType.TEXT), new Column("application_name", PgType.TEXT),
            new Column("active_queries", PgType.TEXT), new Column("last_active_query", PgType.TEXT),
            new Column("session_start", PgType.TIMESTAMPTZ), new Column("active_query_start", PgType.TIMESTAMPTZ),
            new Column("num_txns_executed", PgType.INT8), new Column("database_name", PgType.TEXT),
            new Column("backend_pid", PgType.INT4), new Column("tls", PgType.BOOL))),
    QUERIES("queries", List.of(
            new Column("query_id", PgType.TEXT), new Column("node_id", PgType.INT8), new Column("session_id", PgType.TEXT),
            new Column("user_name", PgType.TEXT), new Column("start", PgType.TIMESTAMPTZ), new Column("query", PgType.TEXT),
            new Column("client_address", PgType.TEXT), new Column("application_name", PgType.TEXT),
            new Column("phase", PgType.TEXT))),
    ACTIVE_CONNECTIONS("active", List.of(
            new Column("client_duckdb_id", PgType.UUID), new Column("client_user_agent", PgType.TEXT),
            new Column("client_duckdb_version", PgType.TEXT), new Column("client_connection_id", PgType.UUID),
            new Column("client_transaction_id", PgType.INT8), new Column("server_transaction_stage", PgType.TEXT),
            new Column("server_transaction_elapsed_time", PgType.INTERVAL), new Column("client_query_id", PgType.INT8),
            new Column("client_query", PgType.TEXT), new Column("server_query_elapsed_time", PgType.INTERVAL),
            new Column("user_name", PgType.TEXT), new Column("session_id", PgType.TEXT)));

    private final String key;
    private final List<Column> columns;

    VirtualTable(String key, List<Column> columns) {
        this.key = key;
        this.columns = columns;
    }

    List<Column> columns() {
        return columns;
    }

    /** The table name the parser puts in place of the source, so that JSqlParser accepts the select. */
    String placeholder(boolean all, AdminStatement.Scope scope) {
        return "__pgb_" + key + "_" + (scope == AdminStatement.Scope.LOCAL ? "l" : "c") + "_" + (all ? "1" : "0");
    }

    /** The reverse of {@link #placeholder}: {table, all, scope}, or null for another name. */
    static Object[] fromPlaceholder(String name) {
        for (VirtualTable t : values()) {
            for (AdminStatement.Scope s : AdminStatement.Scope.values()) {
                for (boolean all : new boolean[] {false, true}) {
                    if (t.placeholder(all, s).equalsIgnoreCase(name)) {
                        return new Object[] {t, all, s};
                    }
                }
            }
        }
        return null;
    }

    static UUID uuid(SessionId id) {
        return new UUID(id.high(), id.low());
    }

    static SessionId sessionId(UUID uuid) {
        return new SessionId(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
    }

    /** The sessions this caller may see, in id order. */
    static List<SessionSnapshot> visible(Env env, boolean all, AdminStatement.Scope scope) {
        List<SessionSnapshot> out = new ArrayList<>();
        for (SessionSnapshot s : env.directory().sessions()) {
            if ((all || s.status() != SessionStatus.CLOSED) && Privileges.canSee(env.caller(), s)
                    && (scope == AdminStatement.Scope.CLUSTER || s.nodeId() == env.directory().nodeId())) {
                out.add(s);
            }
        }
        out.sort((a, b) -> a.id().compareTo(b.id()));
        return out;
    }

    List<Object[]> rows(Env env, boolean all, AdminStatement.Scope scope) {
        List<Object[]> out = new ArrayList<>();
        Caller c = env.caller();
        Instant now = env.now();
        for (SessionSnapshot s : visible(env, all, scope)) {
            boolean running = s.activeQuery() != null;
            switch (this) {
                case SESSIONS -> out.add(new Object[] {
                        s.nodeId(), s.id().hex(), s.status().label(), s.userName(), s.authenticationMethod(),
                        s.clientAddress(), s.applicationName(),
                        running ? Privileges.text(c, s, s.activeQuery()) : "",
                        Privileges.text(c, s, s.lastActiveQuery()), s.sessionStart(),
                        running ? s.activeQueryStart() : null, s.transactionCount(), s.databaseName(),
                        s.backendPid(), s.tls()});
                case QUERIES -> {
                    if (running) {
                        out.add(new Object[] {QueryId.of(s).hex(), s.nodeId(), s.id().hex(), s.userName(),
                                s.activeQueryStart(), Privileges.text(c, s, s.activeQuery()), s.clientAddress(),
                                s.applicationName(), s.cancelling() ? "cancelling" : "executing"});
                    }
                }
                case ACTIVE_CONNECTIONS -> {
                    if (running || s.transactionStart() != null) {
                        Instant txStart = s.transactionStart() != null ? s.transactionStart() : s.activeQueryStart();
                        out.add(new Object[] {null, s.applicationName(), null, uuid(s.id()), s.transactionCount(),
                                s.status().label(), txStart == null ? null : PgInterval.between(txStart, now),
                                running ? s.activeQuerySequence() : null, Privileges.text(c, s, s.activeQuery()),
                                running && s.activeQueryStart() != null ? PgInterval.between(s.activeQueryStart(), now) : null,
                                s.userName(), s.id().hex()});
                    }
                }
            }
        }
        return out;
    }
}
