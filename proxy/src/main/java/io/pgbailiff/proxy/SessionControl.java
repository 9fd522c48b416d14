package io.pgbailiff.proxy;

import java.util.concurrent.CompletableFuture;

/**
 * What an administrator can do to a session. Callable from any thread; each action runs on the
 * session's own event loop, so it sees the session exactly between two of its messages.
 */
interface SessionControl {

    /**
     * Cancels the running statement, if any, then ends the session: the client receives
     * {@code FATAL 57P01} and both connections close (an open transaction rolls back).
     *
     * @return false if the session had already ended
     */
    CompletableFuture<Boolean> terminate();

    /**
     * Cancels the statement with this sequence number if it is still the one running. The client's
     * next message is held until the cancel has reached the backend, so a late cancel can never
     * hit a later statement.
     *
     * @return false if that statement is no longer running
     */
    CompletableFuture<Boolean> cancelStatement(long sequence);

    /**
     * Fails the session's active transaction and keeps the connection usable: a running statement
     * is cancelled; an idle open transaction is rolled back at once, releasing its locks, and the
     * client's next statement is told the transaction was interrupted.
     *
     * @return false if there was nothing to interrupt (idle, closed, or committing / rolling back)
     */
    CompletableFuture<Boolean> interrupt();
}
