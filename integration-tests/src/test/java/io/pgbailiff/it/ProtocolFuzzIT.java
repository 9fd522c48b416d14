package io.pgbailiff.it;

import ch.qos.logback.classic.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thousands of connections of malformed frontend traffic ({@link ProtocolFuzzer}) leave pgbailiff
 * serving: a well-behaved session opened before is untouched, no fuzz session stays in the
 * registry, no backend connection stays open, no file descriptor is left behind, and every answer
 * the fuzz clients got was a well-formed message stream.
 *
 * <p>The run is seeded: {@code -Dpgbailiff.fuzz.seed=N} repeats one, {@code -Dpgbailiff.fuzz.cases=N}
 * changes its size (default 3,000). The fuzz clients log in as {@code alice} to a database of
 * their own; the bystander is {@code bob}, whom alice may not cancel.
 */
class ProtocolFuzzIT extends ProxyTestBase {
    private static final String DATABASE = "fuzz_it";
    private static final String BYSTANDER = "fuzz-bystander";
    private static final Duration SETTLE = Duration.ofSeconds(15);

    @BeforeAll
    static void createDatabase() throws SQLException {
        TestPostgres.recreateDatabase(DATABASE);
    }

    @AfterAll
    static void dropDatabase() throws SQLException {
        TestPostgres.dropDatabase(DATABASE);
    }

    @Test
    void malformedTrafficOnThousandsOfConnectionsLeavesTheProxyServingAndTheBystanderUntouched() throws Exception {
        long seed = Long.getLong("pgbailiff.fuzz.seed", System.nanoTime());
        long cases = Long.getLong("pgbailiff.fuzz.cases", 3000);
        System.out.println("ProtocolFuzzIT: seed " + seed + " (repeat with -Dpgbailiff.fuzz.seed=" + seed + "), " + cases + " cases");
        int baselineFds = ProxyResources.openFileDescriptors();
        int errorsBefore = ProxyLogRecorder.errors().size();

        try (Bystander bystander = Bystander.open(proxy, "bob", BYSTANDER, 42)) {

            ProtocolFuzzer.Stats stats = quietly(() -> ProtocolFuzzer.fuzz(
                    new ProtocolFuzzer.Target("127.0.0.1", proxy.port(), "alice", DATABASE, "fuzz"), seed, cases,
                    Duration.ofMinutes(3), 16));
            System.out.println("ProtocolFuzzIT: " + stats);

            assertEquals(cases, stats.cases.sum(), "every case ran within the time limit: " + stats);
            assertEquals(0, stats.connectFailures.sum(), "every connection was accepted: " + stats);
            assertTrue(stats.violations.isEmpty(), "malformed answers (seed " + seed + "): " + new TreeMap<>(stats.violations));
            assertTrue(!stats.errorCodes.containsKey("XX000"), "no internal error reached a client: " + stats);
            assertTrue(stats.errorCodes.containsKey("08P01"), "the fuzz reached the protocol checks: " + stats);
            List<ProxyLogRecorder.Line> errors = ProxyLogRecorder.errors();
            assertEquals(List.of(), errors.subList(errorsBefore, errors.size()), "pgbailiff logged no error");

            proxy.awaitSessions(bystander::isAloneIn, SETTLE, "no fuzz session left in the registry");
            Waits.until(() -> BackendActivity.backendsOnDatabase(DATABASE) == 0, SETTLE,
                    () -> "no backend connection of the fuzz left open; still " + BackendActivity.backendsOnDatabase(DATABASE));

            try (Connection fresh = proxy.connect("alice", null, "dbname", DATABASE); Statement s = fresh.createStatement()) {
                ResultSet rs = s.executeQuery("SELECT 'still serving'");
                assertTrue(rs.next());
                assertEquals("still serving", rs.getString(1));
            }

            bystander.assertUntouched();
        }
        proxy.awaitSessions(List::isEmpty, SETTLE, "every session ended");
        Waits.until(() -> ProxyResources.openFileDescriptors() <= baselineFds + 5, SETTLE,
                () -> "open file descriptors back to " + baselineFds + " (+5); now " + ProxyResources.openFileDescriptors());
    }

    /**
     * A client that sends Terminate and waits for the connection to close sees a quiet close, as
     * from PostgreSQL, not an error claiming the server went away.
     */
    @Test
    void terminateIsAnsweredByAQuietClose() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.logIn(java.util.Map.of("user", "alice", "database", "postgres"));
            raw.send(RawPgClient.message('X', new byte[0]));
            raw.setTimeout(5000);
            assertEquals(-1, raw.readByte(), "nothing after Terminate but the end of the stream");
        }
    }

    /**
     * Garbage from a client whose result is still streaming ends its session, and the stream it
     * has been sent stays well formed: pgbailiff adds no error in the middle of a row.
     */
    @Test
    void aProtocolErrorWhileAResultStreamsLeavesTheStreamWellFormed() throws Exception {
        byte[] got;
        try (RawPgClient raw = new RawPgClient(proxy.port(), 32 * 1024)) {
            raw.logIn(java.util.Map.of("user", "alice", "database", "postgres"));
            raw.send(RawPgClient.query("SELECT repeat('x', 1000) FROM generate_series(1, 100000)"));
            Thread.sleep(1000); // the result fills the socket buffers and the proxy's write buffer
            raw.send(new byte[] {'Q', (byte) 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            raw.setTimeout(20_000);
            got = raw.input().readAllBytes();
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(got);
        int rows = 0;
        while (b.remaining() >= 5) {
            char type = (char) b.get();
            int len = b.getInt();
            int available = Math.min(len - 4, b.remaining());
            byte[] body = new byte[available];
            b.get(body);
            if (type == 'D') {
                for (int i = 6; i < body.length; i++) { // after the column count and the value's length
                    assertEquals('x', (char) body[i], "row " + rows + " holds only its value, byte " + i);
                }
                rows++;
            } else {
                assertTrue(type == 'T' || (type == 'E' && available == len - 4),
                        "after the rows only a whole error may come, not '" + type + "' at row " + rows);
            }
        }
        assertTrue(rows > 10, "the result was streaming: " + rows + " rows");
    }

    /** A case is a function of the seed and its index alone, so a failure can be replayed on its own. */
    @Test
    void casesAreReproducibleFromSeedAndIndex() {
        ProtocolFuzzer.Target target = new ProtocolFuzzer.Target("127.0.0.1", 1, "alice", DATABASE, "fuzz");
        for (long i = 0; i < 200; i++) {
            ProtocolFuzzer.Case a = ProtocolFuzzer.generate(7, i, target);
            ProtocolFuzzer.Case b = ProtocolFuzzer.generate(7, i, target);
            assertArrayEquals(a.bytes(), b.bytes());
            assertArrayEquals(a.chunks(), b.chunks());
            assertEquals(a.kind(), b.kind());
            assertEquals(a.ending(), b.ending());
        }
    }

    private interface Run<T> {
        T run() throws Exception;
    }

    /** Runs with the per-connection protocol-error lines (INFO) off: thousands of them say nothing here. */
    private static <T> T quietly(Run<T> work) throws Exception {
        var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.pgbailiff.proxy.FrontendHandler");
        Level before = logger.getLevel();
        logger.setLevel(Level.WARN);
        try {
            return work.run();
        } finally {
            logger.setLevel(before);
        }
    }
}
