package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DataRowWriterTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Each row written with the writer must equal the same values encoded by {@link PgEncoder#dataRow}. */
    private static void assertRowsEncodeAsPgEncoderDoes(List<List<Object>> rows) {
        DataRowWriter writer = new DataRowWriter();
        ByteBuf actual = ALLOC.buffer();
        ByteBuf expected = ALLOC.buffer();
        try {
            for (List<Object> row : rows) {
                writer.begin(row.size());
                List<byte[]> values = new ArrayList<>();
                for (Object v : row) {
                    if (v == null) {
                        writer.nullValue();
                        values.add(null);
                    } else if (v instanceof byte[] binary) {
                        writer.binaryValue(binary);
                        values.add(binary);
                    } else {
                        writer.textValue((CharSequence) v);
                        values.add(v.toString().getBytes(StandardCharsets.UTF_8));
                    }
                }
                writer.end(actual);
                ByteBuf one = PgEncoder.dataRow(ALLOC, values);
                expected.writeBytes(one);
                one.release();
            }
            assertEquals(Bytes.hex(Bytes.readable(expected)), Bytes.hex(Bytes.readable(actual)));
        } finally {
            actual.release();
            expected.release();
        }
    }

    @Test
    void asciiNullAndBinaryValues() {
        assertRowsEncodeAsPgEncoderDoes(List.of(
                Arrays.asList("node 1", null, new byte[] {0, 1, -1}, "", new StringBuilder("2026-11-21 07:18:46.393807+00"))));
    }

    @Test
    void asciiAndOtherCharactersMixedInOneValue() {
        assertRowsEncodeAsPgEncoderDoes(List.of(
                List.of("abc\u00e9def", "\u00e9", "ascii then \u20ac then ascii", new StringBuilder("x\uD83D\uDE00"))));
    }

    @Test
    void everyUtf8LengthAndSurrogatePairs() {
        assertRowsEncodeAsPgEncoderDoes(List.of(
                List.of("café", "€ 中文", "emoji \uD83D\uDE00 end", new StringBuilder("\uD83D\uDE00"))));
    }

    @Test
    void unpairedSurrogatesBecomeQuestionMarksAsStringGetBytesDoes() {
        assertRowsEncodeAsPgEncoderDoes(List.of(
                List.of("high at end \uD83D", "lone low \uDE00 here", "high then letter \uD83Dx", "\uDE00\uD83D")));
    }

    @Test
    void aFirstValueOfThreeByteCharactersGrowsTheArrayEnough() {
        assertRowsEncodeAsPgEncoderDoes(List.of(List.of("€".repeat(200)), List.of("中".repeat(1000), "x")));
    }

    @Test
    void rowsLargerThanTheInitialArrayAndASmallRowAfterThem() {
        String large = "x".repeat(3000);
        String wide = "é€\uD83D\uDE00".repeat(400);
        assertRowsEncodeAsPgEncoderDoes(List.of(
                List.of(large, wide),
                List.of("short", new StringBuilder(wide), java.nio.CharBuffer.wrap("any CharSequence € \uD83D\uDE00")),
                Arrays.asList(null, null),
                List.of()));
    }
}
