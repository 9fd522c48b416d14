package io.pgbailiff.adminsql;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The sessions admin-sql reads and acts on; the proxy implements it. */
public interface SessionDirectory {

    /** This node's id ({@code SHOW LOCAL SESSIONS} lists only sessions with this node id). */
    long nodeId();

    /** Every session of the cluster, at this moment. */
    List<SessionSnapshot> sessions();

    /** Cancels the running statement and ends the session; false if it is already gone. */
    CompletableFuture<Boolean> cancelSession(SessionId id);

    /** Cancels statement {@code sequence} of that session; false if that statement is no longer running. */
    CompletableFuture<Boolean> cancelQuery(SessionId id, long sequence);

    /** md_interrupt_server_connection: false if the session is idle, closed, unknown or finishing. */
    CompletableFuture<Boolean> interrupt(SessionId id);

    /** What a session-control statement asks of a session, named as the audit log names it. */
    enum Action {
        CANCEL_SESSION("cancel session"), CANCEL_QUERY("cancel query"), INTERRUPT("interrupt");

        private final String text;

        Action(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * A cancel or interrupt that reached no session. {@code requested} is what was asked for: an
     * id, or the select that chose none; {@code session} is the session id it named, when it named
     * one, which may be a session the caller may not see (null otherwise). Nothing is done, but
     * the attempt is on record like every other.
     */
    default void unmatched(Action action, SessionId session, String requested) {
    }
}
