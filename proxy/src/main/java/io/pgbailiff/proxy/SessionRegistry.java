package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionSnapshot;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sessions of this node: a session is added once its backend is ready for queries and
 * removed the moment either side of it closes. Kept in id order, which is the order SHOW SESSIONS
 * lists them in, so a listing of thousands of sessions needs no sort.
 */
public final class SessionRegistry {
    private final ConcurrentSkipListMap<SessionId, Session> sessions = new ConcurrentSkipListMap<>();

    /** The skip list counts by walking; this is kept alongside. */
    private final AtomicInteger size = new AtomicInteger();

    void add(Session session) {
        if (sessions.put(session.id(), session) == null) {
            size.incrementAndGet();
        }
    }

    void remove(Session session) {
        if (sessions.remove(session.id(), session)) {
            size.decrementAndGet();
        }
    }

    public Optional<Session> find(SessionId id) {
        return Optional.ofNullable(sessions.get(id));
    }

    Collection<Session> all() {
        return sessions.values();
    }

    public int size() {
        return size.get();
    }

    /** Every session as it is now, in id order. */
    public List<SessionSnapshot> snapshot() {
        List<SessionSnapshot> list = new ArrayList<>(size.get());
        for (Session s : sessions.values()) {
            list.add(s.snapshot());
        }
        return list;
    }
}
