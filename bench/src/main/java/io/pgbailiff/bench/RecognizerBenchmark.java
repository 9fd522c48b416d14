package io.pgbailiff.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgbailiff.adminsql.AdminSqlRecognizer;
import io.pgbailiff.protocol.FrontendMessage;
import io.pgbailiff.protocol.PgFrame;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What the session-control recogniser costs an ordinary statement: the proxy runs
 * {@link AdminSqlRecognizer#mightContainAdmin(String)} on the text of every Query and Parse, after
 * decoding that text from the frame. {@code recognise} is the check alone; {@code decodeAndRecognise}
 * adds the decode the proxy does first (the String allocation is part of the price).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class RecognizerBenchmark {

    /** Statement kinds: what pgbench -S and TPC-B send, a long ORM-style select, and an admin statement. */
    @Param({"pgbench_select", "pgbench_update", "orm_select_2k", "show_sessions"})
    public String statement;

    private String sql;
    private ByteBuf queryMessage;

    static String sql(String kind) {
        return switch (kind) {
            case "pgbench_select" -> "SELECT abalance FROM pgbench_accounts WHERE aid = $1;";
            case "pgbench_update" -> "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;";
            case "orm_select_2k" -> ormSelect(2048);
            case "show_sessions" -> "SHOW SESSIONS";
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** A select of the kind ORMs generate: long column lists, joins, no md_ anywhere. */
    private static String ormSelect(int length) {
        StringBuilder b = new StringBuilder("/* app=orders */ SELECT ");
        int i = 0;
        while (b.length() < length - 200) {
            b.append(i == 0 ? "" : ", ").append("o.column_number_").append(i).append(" AS o_c").append(i);
            i++;
        }
        b.append(" FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > $1 AND c.region = $2"
                + " ORDER BY o.created_at DESC LIMIT 50");
        return b.toString();
    }

    @Setup(Level.Trial)
    public void setUp() {
        sql = sql(statement);
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        queryMessage = Unpooled.directBuffer(text.length + 6);
        queryMessage.writeByte('Q').writeInt(text.length + 5).writeBytes(text).writeByte(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        queryMessage.release();
    }

    @Benchmark
    public boolean recognise() {
        return AdminSqlRecognizer.mightContainAdmin(sql);
    }

    @Benchmark
    public boolean decodeAndRecognise() {
        PgFrame frame = new PgFrame(FrontendMessage.QUERY, queryMessage.duplicate());
        return AdminSqlRecognizer.mightContainAdmin(FrontendMessage.Query.decode(frame).sql());
    }
}
