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

    /**
     * A cancel or interrupt ({@code kind}: "cancel session", "cancel query", "interrupt") that
     * reached no session: {@code requested} is the id asked for, which names no session the caller
     * may see, or the select that chose none. Nothing is done, but the attempt is on record like
     * every other.
     */
    default void unmatched(String kind, String requested) {
    }
}
