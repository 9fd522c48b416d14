package io.pgbailiff.adminsql;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A session directory held in a list, recording every action asked of it. */
final class InMemorySessionDirectory implements SessionDirectory {
    final List<SessionSnapshot> sessions = new ArrayList<>();
    final List<String> calls = new ArrayList<>();
    private final long nodeId;

    InMemorySessionDirectory(long nodeId) {
        this.nodeId = nodeId;
    }

    static SessionSnapshot session(String hex, String user, boolean superuser, SessionStatus status, String query,
                                   long seq, Instant start, Instant queryStart, Instant txStart) {
        SessionId id = SessionId.parse(hex);
        return new SessionSnapshot(id.nodeId(), id, user, "db", "app-" + user, "10.0.0.1:5000", "scram-sha-256", false,
                start, status, query, queryStart, seq, "SELECT 0", txStart, 3, 100, superuser, 10, 1000, 2000, false);
    }

    SessionSnapshot add(SessionSnapshot s) {
        sessions.add(s);
        return s;
    }

    @Override
    public long nodeId() {
        return nodeId;
    }

    @Override
    public List<SessionSnapshot> sessions() {
        return List.copyOf(sessions);
    }

    @Override
    public CompletableFuture<Boolean> cancelSession(SessionId id) {
        calls.add("cancelSession " + id.hex());
        return CompletableFuture.completedFuture(sessions.stream().anyMatch(s -> s.id().equals(id)));
    }

    @Override
    public CompletableFuture<Boolean> cancelQuery(SessionId id, long sequence) {
        calls.add("cancelQuery " + id.hex() + " " + sequence);
        return CompletableFuture.completedFuture(sessions.stream()
                .anyMatch(s -> s.id().equals(id) && s.activeQuery() != null && s.activeQuerySequence() == sequence));
    }

    @Override
    public void unmatched(Action action, SessionId session, String requested) {
        calls.add("unmatched " + action + " " + requested);
    }

    @Override
    public CompletableFuture<Boolean> interrupt(SessionId id) {
        calls.add("interrupt " + id.hex());
        return CompletableFuture.completedFuture(sessions.stream()
                .anyMatch(s -> s.id().equals(id) && (s.activeQuery() != null || s.transactionStart() != null)));
    }
}
