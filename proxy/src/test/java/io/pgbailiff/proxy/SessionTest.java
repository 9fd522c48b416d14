package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What a session shows as running, followed from the extended-protocol messages its client sends. */
class SessionTest {
    private final ProxyMetrics metrics = new ProxyMetrics(new SessionRegistry(), new ClientConnections(10), new CancelKeys());
    private final Session session = new Session(new SessionId(1, 1), 1, "alice", "db", "app",
            "127.0.0.1:5000", unusedControl(), metrics);

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

    /** Executes the portal as a request of its own and checks what is shown as running until its ReadyForQuery. */
    private void assertRuns(String portal, String expectedSql, String why) {
        session.onExecute(portal);
        session.onSync();
        assertEquals(expectedSql, session.snapshot().activeQuery(), why);
        session.onReadyForQuery((byte) 'I');
        assertNull(session.snapshot().activeQuery());
        assertEquals(SessionStatus.IDLE, session.status());
    }

    @Test
    void theUnnamedStatementAndPortalAreWhatMostDriversUse() {
        for (String sql : new String[] {"SELECT 1", "SELECT 2"}) {
            session.onParse("", sql);
            session.onBind("", "");
            assertRuns("", sql, "the statement just parsed and bound");
        }
        session.onBind("", "");
        assertRuns("", "SELECT 2", "a Bind without a Parse binds the unnamed statement as it is");
    }

    @Test
    void namedStatementsAndPortalsAndTheirMixWithUnnamedOnes() {
        session.onParse("S_1", "SELECT named");
        session.onParse("", "SELECT unnamed");
        session.onBind("P_1", "");
        session.onBind("", "S_1");
        assertRuns("P_1", "SELECT unnamed", "the named portal holds what the unnamed statement was");
        assertRuns("", "SELECT named", "the unnamed portal holds the named statement");
        session.onBind("P_2", "S_1");
        assertRuns("P_2", "SELECT named", "a second portal of the same statement");
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
        assertRuns("", null, "nothing is known of a closed portal: the request runs without a text");
        session.onBind("", "");
        session.onBind("P_1", "S_1");
        assertRuns("P_1", null, "a portal bound to a closed statement has no text either");
    }

    @Test
    void closeAndExecuteBeforeAnyParseOrBind() {
        session.onClose((byte) 'S', "");
        session.onClose((byte) 'P', "P_1");
        assertRuns("", null, "the backend reports the missing portal; the request runs without a text");
        session.onParse("", "SELECT 1");
        session.onBind("", "");
        assertRuns("", "SELECT 1", "the first Parse and Bind after them");
    }

    @Test
    void startTimesAreWholeMicrosecondsAndTheSameInEverySnapshot() throws InterruptedException {
        Instant before = Instant.now().truncatedTo(ChronoUnit.MICROS);
        session.onQuery("SELECT pg_sleep(1)");
        Instant after = Instant.now();
        Instant shown = session.snapshot().activeQueryStart();
        // start times are the session's start plus monotonic-clock time, and the wall clock may be
        // slewed against the monotonic one meanwhile: allow for that, not for a wrong reading
        Duration slew = Duration.ofMillis(50);
        assertFalse(shown.isBefore(before.minus(slew)) || shown.isAfter(after.plus(slew)),
                shown + " not between " + before + " and " + after);
        assertEquals(0, shown.getNano() % 1000, "PostgreSQL keeps times to the microsecond");
        assertEquals(0, session.snapshot().sessionStart().getNano() % 1000);
        for (int i = 0; i < 100; i++) {
            Thread.sleep(0, 1000);
            assertEquals(shown, session.snapshot().activeQueryStart());
            assertEquals(shown, session.snapshot().transactionStart(), "outside a block, the statement is the transaction");
        }
        session.onReadyForQuery((byte) 'I');
        assertNull(session.snapshot().activeQueryStart());
    }
}
