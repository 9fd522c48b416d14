package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issues session ids: high 64 bits are wall-clock nanoseconds, made strictly increasing within
 * the process, so ids stay unique across restarts as long as the clock does not run back; low
 * 32 bits are the node id, so nodes never collide.
 */
final class SessionIdGenerator {
    private final long nodeId;
    private final AtomicLong last = new AtomicLong();

    SessionIdGenerator(int nodeId) {
        this.nodeId = nodeId & 0xffffffffL;
    }

    SessionId next() {
        Instant now = Instant.now();
        long wall = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        long high = last.updateAndGet(prev -> Math.max(prev + 1, wall));
        return new SessionId(high, nodeId);
    }
}
