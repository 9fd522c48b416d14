package io.pgbailiff.adminsql;

/**
 * Who runs an admin statement, with the role memberships that decide what they may see and cancel
 * (see {@link Privileges}).
 */
public record Caller(SessionId sessionId, String userName, boolean superuser, boolean readAllStats,
                     boolean signalBackend, boolean adminRole) {
}
