package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionSnapshot;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions of this node: a session is added once its backend is ready for queries and
 * removed the moment either side of it closes.
 */
public final class SessionRegistry {
    private final ConcurrentHashMap<SessionId, Session> sessions = new ConcurrentHashMap<>();

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

    public int size() {
        return sessions.size();
    }

    public List<SessionSnapshot> snapshot() {
        List<SessionSnapshot> list = new ArrayList<>(sessions.size());
        for (Session s : sessions.values()) {
            list.add(s.snapshot());
        }
        list.sort((a, b) -> a.id().compareTo(b.id()));
        return list;
    }
}
