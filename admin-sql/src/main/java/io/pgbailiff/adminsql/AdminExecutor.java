package io.pgbailiff.adminsql;

import io.pgbailiff.adminsql.AdminStatement.Cancel;
import io.pgbailiff.adminsql.AdminStatement.Target;
import io.pgbailiff.adminsql.SessionDirectory.Action;
import io.pgbailiff.protocol.SqlState;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Runs an {@link AdminStatement}. Every check (ids, cardinality, privileges) is made for all targets
 * before any cancel or interrupt is sent, so a failing statement changes nothing.
 *
 * <p>md_interrupt_server_connection: NULL in, NULL out; text that is not a UUID (or 32 hex digits) is
 * {@code 22P02}, as PostgreSQL's uuid input; a session the caller cannot see, or that does not exist,
 * gives {@code false}; a visible session the caller may not cancel is {@code 42501}, as
 * pg_cancel_backend.
 */
public final class AdminExecutor {
    private final Clock clock;

    public AdminExecutor(Clock clock) {
        this.clock = clock;
    }

    public AdminExecutor() {
        this(Clock.systemUTC());
    }

    public CompletableFuture<AdminResult> execute(AdminStatement statement, List<String> params, Caller caller,
                                                  SessionDirectory directory) {
        try {
            Env env = new Env(caller, clock.instant(), params == null ? List.of() : params, directory);
            if (statement instanceof AdminStatement.ShowSessions s) {
                return completed(table(VirtualTable.SESSIONS, VirtualTable.SESSIONS.rows(env, s.all(), s.scope())));
            }
            if (statement instanceof AdminStatement.ShowQueries s) {
                return completed(table(VirtualTable.QUERIES, VirtualTable.QUERIES.rows(env, s.all(), s.scope())));
            }
            if (statement instanceof Cancel c) {
                return cancel(c, env);
            }
            return select((SelectQuery) statement, env);
        } catch (AdminSqlException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static CompletableFuture<AdminResult> completed(AdminResult r) {
        return CompletableFuture.completedFuture(r);
    }

    private static AdminResult table(VirtualTable t, List<Object[]> rows) {
        List<List<Object>> out = new ArrayList<>();
        rows.forEach(r -> out.add(Arrays.asList(r)));
        return new AdminResult(t.columns(), out, "SELECT " + out.size());
    }

    private CompletableFuture<AdminResult> select(SelectQuery q, Env env) {
        List<Object[]> rows = q.plan().run(env);
        Map<UUID, SessionSnapshot> targets = new LinkedHashMap<>();
        List<SessionSnapshot> visible = VirtualTable.visible(env, false, AdminStatement.Scope.CLUSTER);
        for (Object[] row : rows) {
            for (Object v : row) {
                if (v instanceof SelectCompiler.PendingInterrupt p) {
                    SessionSnapshot s = visible.stream().filter(x -> VirtualTable.uuid(x.id()).equals(p.id())).findFirst().orElse(null);
                    if (s != null && !Privileges.canCancel(env.caller(), s)) {
                        throw denied("session", s);
                    }
                    targets.put(p.id(), s);
                }
            }
        }
        targets.forEach((id, s) -> {
            if (s == null) {
                env.directory().unmatched(Action.INTERRUPT, VirtualTable.sessionId(id), id.toString());
            }
        });
        if (q.plan().callsInterrupt && targets.isEmpty()) {
            env.directory().unmatched(Action.INTERRUPT, null, "the ids selected by " + q.sql());
        }
        Map<UUID, CompletableFuture<Boolean>> sent = new LinkedHashMap<>();
        targets.forEach((id, s) -> sent.put(id, s == null ? CompletableFuture.completedFuture(false) : env.directory().interrupt(s.id())));
        return CompletableFuture.allOf(sent.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<List<Object>> out = new ArrayList<>();
            for (Object[] row : rows) {
                List<Object> r = new ArrayList<>(row.length);
                for (Object v : row) {
                    r.add(v instanceof SelectCompiler.PendingInterrupt p ? sent.get(p.id()).join() : v);
                }
                out.add(r);
            }
            return new AdminResult(q.columns(), out, "SELECT " + out.size());
        });
    }

    private CompletableFuture<AdminResult> cancel(Cancel c, Env env) {
        boolean session = c.target() == Target.SESSION;
        List<Object> ids = ids(c, env);
        List<SessionSnapshot> all = env.directory().sessions();
        Map<SessionId, SessionSnapshot> found = new LinkedHashMap<>();
        Map<SessionId, QueryId> queries = new LinkedHashMap<>();
        for (Object raw : ids) {
            String text = raw instanceof UUID u ? u.toString() : raw.toString();
            SessionSnapshot target;
            QueryId qid = null;
            if (session) {
                SessionId id;
                try {
                    id = SessionId.parse(text);
                } catch (IllegalArgumentException e) {
                    throw new AdminSqlException(SqlState.SYNTAX_ERROR, "invalid session ID '" + text + "'");
                }
                target = all.stream().filter(s -> s.id().equals(id) && s.status() != SessionStatus.CLOSED).findFirst().orElse(null);
                if (target == null && !c.ifExists()) {
                    env.directory().unmatched(Action.CANCEL_SESSION, id, id.hex());
                    throw new AdminSqlException(SqlState.UNDEFINED_OBJECT,
                            "could not cancel session " + id.hex() + ": session ID " + id.hex() + " not found");
                }
            } else {
                try {
                    qid = QueryId.parse(text);
                } catch (IllegalArgumentException e) {
                    throw new AdminSqlException(SqlState.SYNTAX_ERROR, "invalid query ID '" + text + "'");
                }
                QueryId q = qid;
                target = all.stream().filter(q::matches).findFirst().orElse(null);
                if (target == null && !c.ifExists()) {
                    env.directory().unmatched(Action.CANCEL_QUERY, null, q.hex());
                    throw new AdminSqlException(SqlState.UNDEFINED_OBJECT,
                            "could not cancel query " + q.hex() + ": query ID " + q.hex() + " not found");
                }
            }
            if (target != null) {
                found.put(target.id(), target);
                if (qid != null) {
                    queries.put(target.id(), qid);
                }
            }
        }
        if (found.isEmpty()) {
            env.directory().unmatched(session ? Action.CANCEL_SESSION : Action.CANCEL_QUERY, null,
                    c.source() instanceof AdminStatement.Subquery sq ? "the ids selected by " + sq.query().sql()
                            : ids.isEmpty() ? "NULL" : String.join(", ", ids.stream().map(String::valueOf).toList()));
        }
        for (SessionSnapshot s : found.values()) {
            if (!Privileges.canCancel(env.caller(), s)) {
                throw session ? denied("session", s) : denied("query", s, queries.get(s.id()).hex());
            }
        }
        List<CompletableFuture<Boolean>> acts = new ArrayList<>();
        for (SessionSnapshot s : found.values()) {
            acts.add(session ? env.directory().cancelSession(s.id())
                    : env.directory().cancelQuery(s.id(), queries.get(s.id()).sequence()));
        }
        String tag = session ? "CANCEL SESSIONS " : "CANCEL QUERIES ";
        return CompletableFuture.allOf(acts.toArray(CompletableFuture[]::new)).thenApply(x -> {
            long n = acts.stream().filter(f -> Boolean.TRUE.equals(f.join())).count();
            return new AdminResult(List.of(), List.of(), tag + n);
        });
    }

    /** The ids a cancel names; NULLs are dropped (nothing to cancel). */
    private static List<Object> ids(Cancel c, Env env) {
        List<Object> ids = new ArrayList<>();
        if (c.source() instanceof AdminStatement.Literal l) {
            ids.add(l.text());
        } else if (c.source() instanceof AdminStatement.Parameter p) {
            String v = env.param(p.index());
            if (v != null) {
                ids.add(v);
            }
        } else {
            SelectQuery q = ((AdminStatement.Subquery) c.source()).query();
            if (q.plan().columns.size() != 1) {
                throw new AdminSqlException(SqlState.SYNTAX_ERROR, "subquery must return only one column");
            }
            List<Object[]> rows = q.plan().run(env);
            if (!c.plural() && rows.size() > 1) {
                throw new AdminSqlException(SqlState.CARDINALITY_VIOLATION, "more than one row returned by a subquery used as an expression");
            }
            for (Object[] r : rows) {
                if (r[0] instanceof SelectCompiler.PendingInterrupt) {
                    throw AdminSqlException.unsupported("md_interrupt_server_connection() inside CANCEL");
                }
                if (r[0] != null) {
                    ids.add(r[0]);
                }
            }
        }
        return ids;
    }

    private static AdminSqlException denied(String what, SessionSnapshot s) {
        return denied(what, s, s.id().hex());
    }

    private static AdminSqlException denied(String what, SessionSnapshot s, String id) {
        return new AdminSqlException(SqlState.INSUFFICIENT_PRIVILEGE,
                "permission denied to cancel " + (s.superuser() ? "admin " : "") + what + " " + id);
    }
}
