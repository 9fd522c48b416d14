package io.pgbailiff.proxy;

import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The BackendKeyData pgbailiff gives its clients, and what each one cancels.
 *
 * <p>A client never sees a backend's real key: it gets a process id unique among this node's
 * live sessions and a secret from {@link SecureRandom}, of the same length as the backend's key
 * (4 bytes in protocol 3.0, longer in 3.2). A CancelRequest whose key matches no live session is
 * ignored, as PostgreSQL does, but counted: someone guessing keys shows up in
 * {@link #unmatchedRequests()} and in a warning logged at most once per {@link #UNMATCHED_LOG_INTERVAL},
 * which sums up the requests that arrived since the previous one.
 */
final class CancelKeys {
    private static final Logger log = LoggerFactory.getLogger(CancelKeys.class);
    static final Duration UNMATCHED_LOG_INTERVAL = Duration.ofSeconds(10);

    /** The key a client holds, and the backend key it stands for. */
    record Entry(int processId, byte[] secret, BackendKey backendKey) {
    }

    /** A backend's own BackendKeyData. */
    record BackendKey(int processId, byte[] secret) {
    }

    private final ConcurrentHashMap<Integer, Entry> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final byte[] secretBatch = new byte[1024];
    private int secretBatchUsed = secretBatch.length;
    private final AtomicInteger nextProcessId = new AtomicInteger(new SecureRandom().nextInt(1 << 20) + 1000);
    private final LongAdder unmatched = new LongAdder();
    /** Unmatched requests not yet reported in a log line. */
    private final AtomicLong unreported = new AtomicLong();
    private final AtomicBoolean reportScheduled = new AtomicBoolean();
    private final AtomicReference<String> lastUnmatchedFrom = new AtomicReference<>();
    private volatile long lastReportNanos = System.nanoTime() - UNMATCHED_LOG_INTERVAL.toNanos();

    Entry issue(BackendKey backendKey) {
        byte[] secret = nextSecret(backendKey.secret().length);
        while (true) {
            int pid = nextProcessId.getAndUpdate(p -> p == Integer.MAX_VALUE ? 1000 : p + 1);
            Entry entry = new Entry(pid, secret, backendKey);
            if (byProcessId.putIfAbsent(pid, entry) == null) {
                return entry;
            }
        }
    }

    /**
     * Secret bytes are drawn from {@link #random} a batch at a time: each draw takes the generator's
     * lock and hashes, which cost as much as the rest of a client's key exchange when it was done
     * per connection.
     */
    private synchronized byte[] nextSecret(int length) {
        byte[] secret = new byte[length];
        if (length > secretBatch.length) {
            random.nextBytes(secret);
            return secret;
        }
        if (secretBatchUsed + length > secretBatch.length) {
            random.nextBytes(secretBatch);
            secretBatchUsed = 0;
        }
        System.arraycopy(secretBatch, secretBatchUsed, secret, 0, length);
        secretBatchUsed += length;
        return secret;
    }

    void revoke(Entry entry) {
        byProcessId.remove(entry.processId(), entry);
    }

    /** The backend key for a client's CancelRequest, or {@code null} when it matches nothing. */
    BackendKey lookup(int processId, byte[] secret) {
        Entry e = byProcessId.get(processId);
        return e != null && MessageDigest.isEqual(e.secret(), secret) ? e.backendKey() : null;
    }

    /** CancelRequests that matched no live session since this node started. */
    long unmatchedRequests() {
        return unmatched.sum();
    }

    /**
     * Counts a CancelRequest that matched nothing and makes sure it is reported: the first one
     * after a quiet interval at once, later ones together at the end of the interval.
     */
    void recordUnmatched(String from, EventExecutor executor) {
        unmatched.increment();
        unreported.incrementAndGet();
        lastUnmatchedFrom.set(from);
        if (reportScheduled.compareAndSet(false, true)) {
            long wait = Math.max(0, lastReportNanos + UNMATCHED_LOG_INTERVAL.toNanos() - System.nanoTime());
            try {
                executor.schedule(this::reportUnmatched, wait, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException shuttingDown) {
                reportScheduled.set(false);
            }
        }
    }

    private void reportUnmatched() {
        lastReportNanos = System.nanoTime();
        reportScheduled.set(false);
        long n = unreported.getAndSet(0);
        if (n > 0) {
            log.warn("{} cancel request(s) matched no session and were ignored, the latest from {}; {} since start",
                    n, lastUnmatchedFrom.get(), unmatched.sum());
        }
    }
}
