package io.pgbailiff.it;

import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.adminsql.SessionStatus;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Protocol corners where session tracking or session control could lose its footing. */
class ProtocolEdgesIT extends ProxyTestBase {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static RawPgClient login(String app) throws Exception {
        RawPgClient raw = new RawPgClient(proxy.port());
        raw.logIn(Map.of("user", "postgres", "database", "postgres", "application_name", app));
        return raw;
    }

    /**
     * libpq's extended-protocol COPY FROM STDIN sends a Sync behind the Execute (ignored by the
     * backend in copy mode) and another after CopyDone: one ReadyForQuery for two Syncs.
     */
    @Test
    void extendedCopyInWithLibpqsTwoSyncsLeavesTheSessionIdle() throws Exception {
        try (Connection c = TestPostgres.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS edge_copy");
            s.execute("CREATE TABLE edge_copy (v int)");
        }
        try (RawPgClient raw = login("edge-copy")) {
            byte[] sync = RawPgClient.sync();
            raw.send(RawPgClient.concat(RawPgClient.parse("", "COPY edge_copy FROM STDIN"), RawPgClient.bind("", ""),
                    RawPgClient.execute(""), sync));
            raw.readUntil('G');
            raw.send(RawPgClient.concat(RawPgClient.message('d', "1\n2\n".getBytes()), RawPgClient.message('c', new byte[0]), sync));
            RawPgClient.Message done = raw.readUntil('C');
            assertEquals("COPY 2", new String(done.body(), 0, done.body().length - 1));
            raw.readUntil('Z');
            proxy.awaitSessions(l -> l.stream().anyMatch(x -> "edge-copy".equals(x.applicationName())
                    && x.status() == SessionStatus.IDLE), WAIT, "the session is idle after the copy");
            raw.send(RawPgClient.query("SHOW SESSIONS"));
            raw.setTimeout(5000);
            raw.readUntil('Z');
            raw.send(RawPgClient.query("SELECT count(*) FROM edge_copy"));
            assertEquals('T', raw.read().type());
            RawPgClient.Message row = raw.read();
            assertTrue(new String(row.body()).endsWith("2"), row.toString());
            raw.readUntil('Z');
        }
    }

    /**
     * Queries a client sends in the same write as its StartupMessage reach pgbailiff before its
     * backend connection exists. They are held until the session is ready, then handled like any
     * other: answered in order, a session-control statement by pgbailiff, every statement counted,
     * and the client is read again afterwards.
     */
    @Test
    void queriesPipelinedBehindTheStartupMessageAreHandledOnceTheSessionIsReady() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.send(RawPgClient.concat(
                    RawPgClient.startupPacket(196608, Map.of("user", "alice", "database", "postgres",
                            "application_name", "edge-early")),
                    RawPgClient.query("SELECT 'first'"),
                    RawPgClient.query("SELECT application_name FROM [SHOW SESSIONS] WHERE application_name = 'edge-early'")));
            raw.readUntil('Z');
            assertEquals("first", rowText(raw.readUntil('D')));
            raw.readUntil('Z');
            assertEquals("edge-early", rowText(raw.readUntil('D')), "answered by pgbailiff, which knows the session");
            raw.readUntil('Z');
            raw.send(RawPgClient.query("SELECT 'after'"));
            assertEquals("after", rowText(raw.readUntil('D')), "the client connection is read again");
            raw.readUntil('Z');
            SessionSnapshot session = proxy.session("edge-early");
            assertEquals(SessionStatus.IDLE, session.status());
            assertEquals("SELECT 'after'", session.lastActiveQuery());
            assertEquals(3, session.statementCount(), "the two pipelined statements and the last one are counted");
        }
    }

    /** The single text value of a one-column DataRow. */
    private static String rowText(RawPgClient.Message dataRow) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(dataRow.body());
        assertEquals(1, b.getShort(), "one column");
        byte[] value = new byte[b.getInt()];
        b.get(value);
        return new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void cancelSessionWhileAResultStreamsEndsOnAMessageBoundary() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port(), 16 * 1024);
             Connection admin = proxy.connect("postgres"); Statement a = admin.createStatement()) {
            raw.logIn(Map.of("user", "alice", "database", "postgres", "application_name", "edge-stream"));
            raw.send(RawPgClient.query("SELECT repeat('y', 3000) FROM generate_series(1, 200000)"));
            RawPgClient.Message first = raw.readUntil('D');
            assertEquals('D', first.type());
            Thread.sleep(300);
            String id = proxy.sessions(x -> "edge-stream".equals(x.applicationName())).get(0).id().hex();
            a.execute("CANCEL SESSION '" + id + "'");
            RawPgClient.Message m;
            do {
                m = raw.read();
            } while (m.type() == 'D');
            assertEquals('E', m.type(), "after whole DataRows, an error: " + m);
            String code = m.fields().get('C');
            assertTrue("57P01".equals(code) || "57014".equals(code), m.toString());
            if ("57014".equals(code)) {
                assertEquals("57P01", raw.readUntil('E').fields().get('C'));
            }
            raw.awaitClosedByServer();
        }
        proxy.awaitSessions(l -> l.stream().noneMatch(x -> "edge-stream".equals(x.applicationName())), WAIT, "session ended");
    }

    /**
     * A client that sends its next statements after its session was ended must still read the
     * FATAL: pgbailiff only shuts its sending side and discards what arrives, instead of
     * closing a socket the client still writes to (which answers with a reset, and the client's
     * next write fails with "Broken pipe"). It closes for good about 2 s later.
     */
    @Test
    void aClientStillWritingAfterItsSessionEndedReadsTheFatalNotAReset() throws Exception {
        try (RawPgClient raw = login("edge-linger");
             Connection admin = proxy.connect("postgres"); Statement a = admin.createStatement()) {
            String id = proxy.sessions(x -> "edge-linger".equals(x.applicationName())).get(0).id().hex();
            a.execute("CANCEL SESSION '" + id + "'");
            proxy.awaitSessions(l -> l.stream().noneMatch(x -> "edge-linger".equals(x.applicationName())), WAIT, "session ended");
            for (int i = 0; i < 3; i++) {
                Thread.sleep(200);
                raw.send(RawPgClient.query("SELECT " + i));
            }
            RawPgClient.Message fatal = raw.read();
            assertEquals("57P01", fatal.fields().get('C'), fatal.toString());
            assertEquals(-1, raw.readByte(), "then the end of the stream");
            long start = System.nanoTime();
            java.io.IOException refused = null;
            while (refused == null && System.nanoTime() - start < Duration.ofSeconds(10).toNanos()) {
                Thread.sleep(100);
                try {
                    raw.send(RawPgClient.query("SELECT 1"));
                } catch (java.io.IOException e) {
                    refused = e;
                }
            }
            assertTrue(refused != null, "the connection is closed for good after the grace period");
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            assertTrue(seconds < 5, "closed within about 2 s, took " + seconds + " s");
        }
    }

    @Test
    void malformedExtendedMessagesEndOnlyThatConnection() throws Exception {
        try (RawPgClient raw = login("edge-malformed")) {
            raw.send(RawPgClient.message('P', "no terminators".getBytes()));
            RawPgClient.Message m = raw.read();
            assertEquals("08P01", m.fields().get('C'), m.toString());
            raw.awaitClosedByServer();
        }
        try (RawPgClient raw = login("edge-formats")) {
            raw.send(RawPgClient.concat(
                    RawPgClient.parse("s", "SHOW SESSIONS"),
                    RawPgClient.message('B', RawPgClient.concat(RawPgClient.cstring(""), RawPgClient.cstring("s"),
                            new byte[]{0, 0, 0, 0, 0, 3, 0, 1, 0, 1, 0, 1})),
                    RawPgClient.sync()));
            assertEquals('1', raw.read().type());
            RawPgClient.Message error = raw.read();
            assertEquals("08P01", error.fields().get('C'), "3 result formats for 15 columns: " + error);
            raw.readUntil('Z');
            raw.send(RawPgClient.query("SELECT 1"));
            raw.readUntil('Z');
        }
        proxy.awaitSessions(l -> l.stream().noneMatch(x -> x.applicationName().startsWith("edge-m")), WAIT, "no leftovers");
    }

    /**
     * With a second query pipelined behind the target, a CancelRequest could land on the second if
     * the first finishes first: pgbailiff refuses to send it, and both statements run to the end.
     */
    @Test
    void cancelQueryIsRefusedWhileAnotherStatementIsPipelinedBehindTheTarget() throws Exception {
        try (RawPgClient raw = login("edge-pipe");
             java.sql.Connection admin = proxy.connect("postgres", null, "preferQueryMode", "simple");
             Statement a = admin.createStatement()) {
            raw.send(RawPgClient.concat(RawPgClient.query("SELECT pg_sleep(1) /* first */"), RawPgClient.query("SELECT 'second'")));
            proxy.awaitRunning("edge-pipe", "first");
            java.sql.ResultSet rs = a.executeQuery("SELECT query_id FROM [SHOW QUERIES] WHERE application_name = 'edge-pipe'");
            assertTrue(rs.next());
            a.execute("CANCEL QUERY '" + rs.getString(1) + "'");
            assertEquals("TDCZ", raw.responseTypes(), "the first statement was not cancelled");
            assertEquals("TDCZ", raw.responseTypes(), "nor the second");
        }
    }
}
