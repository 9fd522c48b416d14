package io.pgbailiff.it;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that reads a large result slowly holds back the backend instead of filling the
 * proxy's memory: the proxy stops reading from the backend while the client's socket is full.
 */
class BackpressureIT extends ProxyTestBase {
    private static final long RESULT_BYTES = 50L * 1024 * 1024;
    /** What the proxy may hold for one slow session: a few socket reads and the write buffer high-water mark. */
    private static final long BOUND = 8L * 1024 * 1024;
    @Test
    void fiftyMegabyteResultReadSlowlyKeepsProxyMemoryBounded() throws Exception {
        long baseline = proxyBufferMemory();
        long peak = 0;
        long received = 0;
        int rows = (int) (RESULT_BYTES / 1000);
        try (RawPgClient raw = new RawPgClient(proxy.port(), 32 * 1024)) {
            raw.logIn(Map.of("user", "alice", "database", "postgres"));
            raw.send(RawPgClient.query("SELECT repeat('x', 1000) FROM generate_series(1, " + rows + ")"));
            byte[] chunk = new byte[256 * 1024];
            int dataRows = 0;
            var in = raw.input();
            long lastSample = System.nanoTime();
            while (true) {
                int type = in.read();
                int len = in.readInt();
                int remaining = len - 4;
                while (remaining > 0) {
                    int n = in.read(chunk, 0, Math.min(chunk.length, remaining));
                    remaining -= n;
                    received += n;
                }
                if (type == 'D') {
                    dataRows++;
                    if (dataRows % 200 == 0) {
                        Thread.sleep(5);
                    }
                }
                if (System.nanoTime() - lastSample > 20_000_000L) {
                    peak = Math.max(peak, proxyBufferMemory() - baseline);
                    lastSample = System.nanoTime();
                }
                if (type == 'Z') {
                    break;
                }
            }
            assertEquals(rows, dataRows);
        }
        assertTrue(received > RESULT_BYTES, "received " + received);
        assertTrue(peak < BOUND, "proxy buffer memory grew by " + peak + " bytes while relaying " + received
                + " bytes to a slow reader (bound " + BOUND + ")");
    }

    /** Direct and heap memory held by Netty's pooled allocator and by unpooled direct buffers. */
    private static long proxyBufferMemory() {
        var metric = PooledByteBufAllocator.DEFAULT.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory() + PlatformDependent.usedDirectMemory();
    }
}
