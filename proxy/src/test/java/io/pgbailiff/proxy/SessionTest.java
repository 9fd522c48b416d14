package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What a session shows as running, followed from the extended-protocol messages its client sends. */
class SessionTest {
    private final ProxyMetrics metrics = new ProxyMetrics(new SessionRegistry(), new ClientConnections(10), new CancelKeys());
    private final Session session = new Session(new SessionId(1, 1), 1, "alice", "db", "app",
            new InetSocketAddress("127.0.0.1", 5000), unusedControl(), metrics);

    @AfterEach
    void closeMetrics() {
        metrics.close();
    }

    private static SessionControl unusedControl() {
        return (SessionControl) Proxy.newProxyInstance(SessionControl.class.getClassLoader(),
                new Class<?>[] {SessionControl.class}, (proxy, method, args) -> {
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private String running() {
        return session.snapshot().activeQuery();
    }

    private void execute(String portal) {
        session.onExecute(portal);
        session.onSync();
    }

    private void finish() {
        session.onReadyForQuery((byte) 'I');
        assertNull(running());
        assertEquals(SessionStatus.IDLE, session.status());
    }

    @Test
    void theUnnamedStatementAndPortalAreWhatMostDriversUse() {
        for (String sql : new String[] {"SELECT 1", "SELECT 2"}) {
            session.onParse("", sql);
            session.onBind("", "");
            execute("");
            assertEquals(sql, running());
            finish();
        }
        session.onBind("", "");
        execute("");
        assertEquals("SELECT 2", running(), "a Bind without a Parse binds the unnamed statement as it is");
        finish();
    }

    @Test
    void namedStatementsAndPortalsAndTheirMixWithUnnamedOnes() {
        session.onParse("S_1", "SELECT named");
        session.onParse("", "SELECT unnamed");
        session.onBind("P_1", "");
        session.onBind("", "S_1");
        execute("P_1");
        assertEquals("SELECT unnamed", running(), "the named portal holds what the unnamed statement was");
        finish();
        execute("");
        assertEquals("SELECT named", running(), "the unnamed portal holds the named statement");
        finish();
        session.onBind("P_2", "S_1");
        execute("P_2");
        assertEquals("SELECT named", running());
        finish();
    }

    @Test
    void closedStatementsAndPortalsNoLongerNameAQuery() {
        session.onParse("", "SELECT unnamed");
        session.onParse("S_1", "SELECT named");
        session.onBind("", "");
        session.onBind("P_1", "S_1");
        session.onClose((byte) 'P', "");
        session.onClose((byte) 'P', "P_1");
        session.onClose((byte) 'S', "");
        session.onClose((byte) 'S', "S_1");
        execute("");
        assertNull(running(), "nothing is known of a closed portal: the request runs without a text");
        session.onReadyForQuery((byte) 'I');
        session.onBind("", "");
        session.onBind("P_1", "S_1");
        execute("P_1");
        assertNull(running(), "a portal bound to a closed statement has no text either");
        session.onReadyForQuery((byte) 'I');
    }
}
