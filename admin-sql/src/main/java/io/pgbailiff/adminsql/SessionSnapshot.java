package io.pgbailiff.adminsql;

import java.time.Instant;

/**
 * What pgbailiff knows of one session at one moment. Times are {@code null} where they do not
 * apply (no statement running, no transaction open). {@code cancelling} is true while a cancel of the
 * running statement is on its way to the backend.
 */
public record SessionSnapshot(
        long nodeId,
        SessionId id,
        String userName,
        String databaseName,
        String applicationName,
        String clientAddress,
        String authenticationMethod,
        boolean tls,
        Instant sessionStart,
        SessionStatus status,
        String activeQuery,
        Instant activeQueryStart,
        long activeQuerySequence,
        String lastActiveQuery,
        Instant transactionStart,
        long transactionCount,
        int backendPid,
        boolean superuser,
        long statementCount,
        long bytesFromClient,
        long bytesToClient,
        boolean cancelling) {
}
