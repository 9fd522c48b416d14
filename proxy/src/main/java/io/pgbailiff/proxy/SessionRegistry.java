package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionSnapshot;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The sessions of this node: a session is added once its backend is ready for queries and
 * removed the moment either side of it closes. Kept in id order, the order SHOW SESSIONS lists
 * them in, so sorting a listing of thousands of sessions is one pass over an ordered list.
 */
public final class SessionRegistry {
    private final ConcurrentSkipListMap<SessionId, Session> sessions = new ConcurrentSkipListMap<>();

    void add(Session session) {
        sessions.put(session.id(), session);
    }

    void remove(Session session) {
        sessions.remove(session.id(), session);
    }

    public Optional<Session> find(SessionId id) {
        return Optional.ofNullable(sessions.get(id));
    }

    Collection<Session> all() {
        return sessions.values();
    }

    /** Every session as it is now, in id order. */
    public List<SessionSnapshot> snapshot() {
        List<SessionSnapshot> list = new ArrayList<>();
        for (Session s : sessions.values()) {
            list.add(s.snapshot());
        }
        return list;
    }
}
