package io.pgbailiff.adminsql;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PgTypeTest {

    private static String text(PgType t, Object v) {
        return new String(t.text(v), StandardCharsets.UTF_8);
    }

    @Test
    void fractionsOfASecondAsPostgreSQLWritesThem() {
        for (long[] c : new long[][] {{0}, {5}, {100}, {1000}, {120000}, {123456}, {999999}, {10}}) {
            StringBuilder sb = new StringBuilder();
            PgType.appendFraction(sb, c[0]);
            String expected = c[0] == 0 ? "" : ("." + String.format("%06d", c[0])).replaceAll("0+$", "");
            org.junit.jupiter.api.Assertions.assertEquals(expected, sb.toString(), "micros " + c[0]);
        }
    }

    @Test
    void oids() {
        assertEquals(16, PgType.BOOL.oid());
        assertEquals(20, PgType.INT8.oid());
        assertEquals(23, PgType.INT4.oid());
        assertEquals(25, PgType.TEXT.oid());
        assertEquals(2950, PgType.UUID.oid());
        assertEquals(1184, PgType.TIMESTAMPTZ.oid());
        assertEquals(1186, PgType.INTERVAL.oid());
    }

    @Test
    void timestamptz() {
        Instant t = Instant.parse("2024-01-02T03:04:05.123456Z");
        assertEquals("2024-01-02 03:04:05.123456+00", text(PgType.TIMESTAMPTZ, t));
        assertEquals("2024-01-02 03:04:05.12+00", text(PgType.TIMESTAMPTZ, Instant.parse("2024-01-02T03:04:05.120Z")));
        assertEquals("2024-01-02 03:04:05+00", text(PgType.TIMESTAMPTZ, Instant.parse("2024-01-02T03:04:05Z")));
        assertEquals(757479845123456L, ByteBuffer.wrap(PgType.TIMESTAMPTZ.binary(t)).getLong());
        assertEquals(0L, ByteBuffer.wrap(PgType.TIMESTAMPTZ.binary(Instant.parse("2000-01-01T00:00:00Z"))).getLong());
    }

    @Test
    void timestamptzMatchesTheIsoFormatterOverFourMillenniaAndBothSidesOfEveryEpoch() {
        java.time.format.DateTimeFormatter iso = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
                .withZone(java.time.ZoneOffset.UTC);
        java.util.Random random = new java.util.Random(42);
        List<Instant> cases = new java.util.ArrayList<>(List.of(Instant.parse("1970-01-01T00:00:00Z"),
                Instant.parse("1969-12-31T23:59:59.999999Z"), Instant.parse("2000-02-29T12:00:00.000001Z"),
                Instant.parse("0999-12-31T23:59:59Z"), Instant.parse("9999-12-31T23:59:59.5Z")));
        for (int i = 0; i < 10_000; i++) {
            cases.add(Instant.ofEpochSecond(random.nextLong(-30_000_000_000L, 250_000_000_000L), random.nextInt(1_000_000_000)));
        }
        for (Instant t : cases) {
            Instant micros = Instant.ofEpochSecond(t.getEpochSecond(), t.getNano() / 1000 * 1000);
            String fraction = String.format("%06d", micros.getNano() / 1000).replaceAll("0+$", "");
            String expected = iso.format(micros) + (fraction.isEmpty() ? "" : "." + fraction) + "+00";
            assertEquals(expected, text(PgType.TIMESTAMPTZ, t), t.toString());
        }
    }

    @Test
    void intervalText() {
        assertEquals("00:05:12.345678", new PgInterval(0, 0, 312_345_678L).toString());
        assertEquals("1 day 02:00:00", new PgInterval(0, 1, 7_200_000_000L).toString());
        assertEquals("2 days", new PgInterval(0, 2, 0).toString());
        assertEquals("00:00:00", new PgInterval(0, 0, 0).toString());
        assertEquals("-00:05:00", new PgInterval(0, 0, -300_000_000L).toString());
        assertEquals("1 year 2 mons 3 days 04:05:06.5", new PgInterval(14, 3, 14_706_500_000L).toString());
        assertEquals("-1 days +02:00:00", new PgInterval(0, -1, 7_200_000_000L).toString());
        assertEquals("1 mon", new PgInterval(1, 0, 0).toString());
        assertEquals("1 day 02:00:00", text(PgType.INTERVAL, PgInterval.between(Instant.parse("2024-01-01T00:00:00Z"),
                Instant.parse("2024-01-02T02:00:00Z"))));
    }

    @Test
    void intervalBinaryIsMicrosDaysMonths() {
        ByteBuffer b = ByteBuffer.wrap(PgType.INTERVAL.binary(new PgInterval(14, 3, 5_000_000L)));
        assertEquals(5_000_000L, b.getLong());
        assertEquals(3, b.getInt());
        assertEquals(14, b.getInt());
    }

    @Test
    void intervalInput() {
        assertEquals(new PgInterval(0, 0, 300_000_000L), PgInterval.parse("5 minutes"));
        assertEquals(new PgInterval(0, 1, 7_200_000_000L), PgInterval.parse("1 day 02:00:00"));
        assertEquals(new PgInterval(0, 0, 90_000_000L), PgInterval.parse("00:01:30"));
        assertEquals(new PgInterval(0, 0, 9_000_000_000L), PgInterval.parse("2 hours 30 mins"));
    }

    @Test
    void uuidBoolIntsText() {
        UUID u = UUID.fromString("2601e799-51b3-47a7-a64f-18688d148887");
        assertEquals("2601e799-51b3-47a7-a64f-18688d148887", text(PgType.UUID, u));
        assertArrayEquals(new byte[] {0x26, 0x01, (byte) 0xe7, (byte) 0x99, 0x51, (byte) 0xb3, 0x47, (byte) 0xa7,
                (byte) 0xa6, 0x4f, 0x18, 0x68, (byte) 0x8d, 0x14, (byte) 0x88, (byte) 0x87}, PgType.UUID.binary(u));
        assertEquals("t", text(PgType.BOOL, true));
        assertEquals("f", text(PgType.BOOL, false));
        assertArrayEquals(new byte[] {1}, PgType.BOOL.binary(true));
        assertArrayEquals(new byte[] {0}, PgType.BOOL.binary(false));
        assertEquals("-42", text(PgType.INT8, -42L));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 1, 0}, PgType.INT8.binary(256L));
        assertArrayEquals(new byte[] {0, 0, 0x30, 0x39}, PgType.INT4.binary(12345));
        assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), PgType.TEXT.binary("héllo"));
    }
}
