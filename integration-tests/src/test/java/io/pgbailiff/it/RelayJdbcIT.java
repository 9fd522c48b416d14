package io.pgbailiff.it;

import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Everything an application does over pgjdbc works through pgbailiff exactly as directly. */
class RelayJdbcIT extends ProxyTestBase {
    @Test
    void simpleQueryProtocol() throws Exception {
        try (Connection c = proxy.connect("postgres", null, "preferQueryMode", "simple");
             Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT 1 AS one, 'two' AS two; ");
            assertTrue(rs.next());
            assertEquals(1, rs.getInt("one"));
            assertEquals("two", rs.getString("two"));
            assertTrue(s.execute("SELECT 1; SELECT 2"));
            assertTrue(s.getMoreResults());
            ResultSet second = s.getResultSet();
            assertTrue(second.next());
            assertEquals(2, second.getInt(1));
        }
    }

    @Test
    void extendedQueryProtocolWithParameters() throws Exception {
        try (Connection c = proxy.connect("postgres");
             PreparedStatement ps = c.prepareStatement("SELECT ?::int + ?::int, ?::text")) {
            ps.setInt(1, 40);
            ps.setInt(2, 2);
            ps.setString(3, "héllo");
            ResultSet rs = ps.executeQuery();
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
            assertEquals("héllo", rs.getString(2));
        }
    }

    @Test
    void preparedStatementsWithBinaryTransfer() throws Exception {
        try (Connection c = proxy.connect("postgres", null, "prepareThreshold", "1", "binaryTransfer", "true");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT ?::int8, ?::float8, ?::numeric, ?::timestamptz, ?::uuid, ?::bytea, ?::bool")) {
            UUID uuid = UUID.randomUUID();
            Timestamp ts = Timestamp.valueOf("2024-02-29 12:34:56.789");
            byte[] bytes = {0, 1, 2, (byte) 0xff};
            for (int i = 0; i < 5; i++) {
                ps.setLong(1, 1L << 40 + i);
                ps.setDouble(2, Math.PI * i);
                ps.setBigDecimal(3, new BigDecimal("12345.6789"));
                ps.setTimestamp(4, ts);
                ps.setObject(5, uuid);
                ps.setBytes(6, bytes);
                ps.setBoolean(7, i % 2 == 0);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(1L << 40 + i, rs.getLong(1));
                    assertEquals(Math.PI * i, rs.getDouble(2));
                    assertEquals(new BigDecimal("12345.6789"), rs.getBigDecimal(3));
                    assertEquals(ts, rs.getTimestamp(4));
                    assertEquals(uuid, rs.getObject(5));
                    assertArrayEquals(bytes, rs.getBytes(6));
                    assertEquals(i % 2 == 0, rs.getBoolean(7));
                }
            }
            assertTrue(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare(),
                    "the statement is server-prepared after prepareThreshold executions");
        }
    }

    @Test
    void batchInsertOfTenThousandRows() throws Exception {
        try (Connection c = proxy.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS batch_rows");
            s.execute("CREATE TABLE batch_rows (id int PRIMARY KEY, label text)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_rows VALUES (?, ?)")) {
                for (int i = 0; i < 10_000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row " + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertEquals(10_000, counts.length);
            }
            c.commit();
            ResultSet rs = s.executeQuery("SELECT count(*), sum(id) FROM batch_rows");
            assertTrue(rs.next());
            assertEquals(10_000, rs.getInt(1));
            assertEquals(49_995_000L, rs.getLong(2));
            s.execute("DROP TABLE batch_rows");
            c.commit();
        }
    }

    @Test
    void cursorWithFetchSize() throws Exception {
        try (Connection c = proxy.connect("postgres")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(100);
                long sum = 0;
                int rows = 0;
                try (ResultSet rs = s.executeQuery("SELECT g FROM generate_series(1, 25000) g")) {
                    while (rs.next()) {
                        sum += rs.getLong(1);
                        rows++;
                    }
                }
                assertEquals(25_000, rows);
                assertEquals(25_000L * 25_001 / 2, sum);
            }
            c.commit();
        }
    }

    @Test
    void copyInAndOutOfOneHundredThousandRows() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            data.append(i).append('\t').append("value-").append(i * 7).append('\n');
        }
        byte[] input = data.toString().getBytes(StandardCharsets.UTF_8);
        try (Connection c = proxy.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS copy_rows");
            s.execute("CREATE TABLE copy_rows (id int, payload text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long in = copy.copyIn("COPY copy_rows FROM STDIN", new ByteArrayInputStream(input));
            assertEquals(100_000, in);
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            long out = copy.copyOut("COPY (SELECT * FROM copy_rows ORDER BY id) TO STDOUT", output);
            assertEquals(100_000, out);
            assertEquals(md5(input), md5(output.toByteArray()), "COPY OUT returns exactly the bytes COPY IN sent");
            ResultSet rs = s.executeQuery("SELECT md5(string_agg(id || E'\\t' || payload, E'\\n' ORDER BY id) || E'\\n') FROM copy_rows");
            assertTrue(rs.next());
            assertEquals(md5(input), rs.getString(1), "the server's checksum matches the client's");
            s.execute("DROP TABLE copy_rows");
        }
    }

    @Test
    void listenNotifyBetweenTwoConnections() throws Exception {
        try (Connection listener = proxy.connect("postgres"); Connection notifier = proxy.connect("postgres")) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN bailiff_events");
            }
            try (Statement s = notifier.createStatement()) {
                s.execute("NOTIFY bailiff_events, 'hello through the proxy'");
            }
            PGNotification[] notes = listener.unwrap(PGConnection.class).getNotifications(5000);
            assertNotNull(notes);
            assertEquals(1, notes.length);
            assertEquals("bailiff_events", notes[0].getName());
            assertEquals("hello through the proxy", notes[0].getParameter());
        }
    }

    @Test
    void errorsAndTransactionsBehaveAsDirect() throws Exception {
        try (Connection c = proxy.connect("postgres"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> s.execute("SELECT * FROM no_such_table"));
            assertEquals("42P01", e.getSQLState());
            var failed = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> s.execute("SELECT 1"));
            assertEquals("25P02", failed.getSQLState());
            c.rollback();
            ResultSet rs = s.executeQuery("SELECT 1");
            assertTrue(rs.next());
            c.commit();
            assertFalse(c.isClosed());
        }
    }

    @Test
    void largeResultArrivesIntact() throws Exception {
        try (Connection c = proxy.connect("postgres"); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT g, repeat(md5(g::text), 64) FROM generate_series(1, 20000) g");
            int n = 0;
            while (rs.next()) {
                n++;
                assertEquals(2048, rs.getString(2).length());
            }
            assertEquals(20_000, n);
        }
    }

    static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    static Duration elapsedSince(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }
}
