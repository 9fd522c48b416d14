package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.Caller;
import io.pgbailiff.adminsql.SessionDirectory;
import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The registry as admin-sql sees it, for one caller: every action is carried out on the target
 * session's event loop and written to the audit log with who asked, from where, and the outcome.
 */
final class ProxySessionDirectory implements SessionDirectory {
    private static final Logger audit = LoggerFactory.getLogger("io.pgbailiff.audit");

    private final SessionRegistry registry;
    private final ProxyMetrics metrics;
    private final long nodeId;
    private final Caller caller;
    private final String callerAddress;

    ProxySessionDirectory(SessionRegistry registry, ProxyMetrics metrics, long nodeId, Caller caller, String callerAddress) {
        this.registry = registry;
        this.metrics = metrics;
        this.nodeId = nodeId;
        this.caller = caller;
        this.callerAddress = callerAddress;
    }

    @Override
    public long nodeId() {
        return nodeId;
    }

    @Override
    public List<SessionSnapshot> sessions() {
        return registry.snapshot();
    }

    @Override
    public CompletableFuture<Boolean> cancelSession(SessionId id) {
        return act(ProxyMetrics.CancelKind.CANCEL_SESSION, id, SessionControl::terminate);
    }

    @Override
    public CompletableFuture<Boolean> cancelQuery(SessionId id, long sequence) {
        return act(ProxyMetrics.CancelKind.CANCEL_QUERY, id, control -> control.cancelStatement(sequence));
    }

    @Override
    public CompletableFuture<Boolean> interrupt(SessionId id) {
        return act(ProxyMetrics.CancelKind.INTERRUPT, id, SessionControl::interrupt);
    }

    @Override
    public void unmatched(Action action, SessionId session, String requested) {
        String owner = session == null ? "" : registry.find(session)
                .map(s -> " (a session of user " + s.userName() + " the caller may not see)").orElse("");
        metrics.cancel(switch (action) {
            case CANCEL_SESSION -> ProxyMetrics.CancelKind.CANCEL_SESSION;
            case CANCEL_QUERY -> ProxyMetrics.CancelKind.CANCEL_QUERY;
            case INTERRUPT -> ProxyMetrics.CancelKind.INTERRUPT;
        }, ProxyMetrics.CancelOutcome.NOT_FOUND);
        audit.info("{}: by user {} (session {}) from {} on {}{}: no session it may act on, nothing done", action,
                caller.userName(), caller.sessionId().hex(), callerAddress, requested, owner);
    }

    /** An attempt the caller's privileges did not allow: audited like every other. */
    static void auditDenied(Caller caller, String callerAddress, String message) {
        audit.info("denied: user {} (session {}) from {}: {}", caller.userName(), caller.sessionId().hex(),
                callerAddress, message);
    }

    private CompletableFuture<Boolean> act(ProxyMetrics.CancelKind kind, SessionId id,
                                           Function<SessionControl, CompletableFuture<Boolean>> action) {
        Optional<Session> target = registry.find(id);
        CompletableFuture<Boolean> outcome = target.map(s -> action.apply(s.control()))
                .orElseGet(() -> CompletableFuture.completedFuture(false));
        return outcome.whenComplete((done, error) -> {
            metrics.cancel(kind, target.isEmpty() ? ProxyMetrics.CancelOutcome.NOT_FOUND
                    : Boolean.TRUE.equals(done) ? ProxyMetrics.CancelOutcome.DONE : ProxyMetrics.CancelOutcome.NOTHING_TO_DO);
            audit.info("{}: by user {} (session {}) from {} on session {}{}: {}",
                kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '), caller.userName(), caller.sessionId().hex(), callerAddress, id.hex(),
                target.map(s -> " of user " + s.userName()).orElse(""),
                error != null ? "failed: " + error : Boolean.TRUE.equals(done) ? "done" : "nothing to do");
        });
    }
}
