package io.pgbailiff.proxy;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The BackendKeyData pgbailiff gives its clients, and what each one cancels.
 *
 * <p>A client never sees a backend's real key: it gets a process id unique among this node's
 * live sessions and a secret from {@link SecureRandom}, of the same length as the backend's key
 * (4 bytes in protocol 3.0, longer in 3.2). A CancelRequest whose key matches no live session is
 * ignored, as PostgreSQL does.
 */
final class CancelKeys {
    /** The key a client holds, and the backend key it stands for. */
    record Entry(int processId, byte[] secret, BackendKey backendKey) {
    }

    /** A backend's own BackendKeyData. */
    record BackendKey(int processId, byte[] secret) {
    }

    private final ConcurrentHashMap<Integer, Entry> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger nextProcessId = new AtomicInteger(new SecureRandom().nextInt(1 << 20) + 1000);

    Entry issue(BackendKey backendKey) {
        byte[] secret = new byte[backendKey.secret().length];
        random.nextBytes(secret);
        while (true) {
            int pid = nextProcessId.getAndUpdate(p -> p == Integer.MAX_VALUE ? 1000 : p + 1);
            Entry entry = new Entry(pid, secret, backendKey);
            if (byProcessId.putIfAbsent(pid, entry) == null) {
                return entry;
            }
        }
    }

    void revoke(Entry entry) {
        byProcessId.remove(entry.processId(), entry);
    }

    /** The backend key for a client's CancelRequest, or {@code null} when it matches nothing. */
    BackendKey lookup(int processId, byte[] secret) {
        Entry e = byProcessId.get(processId);
        return e != null && MessageDigest.isEqual(e.secret(), secret) ? e.backendKey() : null;
    }
}
