package io.pgbailiff.it;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /metrics}, {@code /health} and {@code /ready} against a known workload on a proxy
 * of this class's own, so every count can be checked exactly.
 */
class MetricsIT extends ProxyTestBase {

    @Test
    void countsMatchAKnownWorkload() throws Exception {
        double acceptedBefore = proxy.metric("pgbailiff_connections_accepted_total");
        double connectsBefore = proxy.metric("pgbailiff_backend_connect_seconds_count");
        try (Connection idle = proxy.connect("alice", null, "ApplicationName", "m-idle");
             Connection inTx = proxy.connect("alice", null, "ApplicationName", "m-tx");
             Connection busy = proxy.connect("bob", null, "ApplicationName", "m-busy");
             Statement busyStatement = busy.createStatement()) {
            assertEquals(acceptedBefore + 3, proxy.metric("pgbailiff_connections_accepted_total"));
            assertEquals(connectsBefore + 3, proxy.metric("pgbailiff_backend_connect_seconds_count"));

            double statementsBefore = proxy.metric("pgbailiff_statements_total");
            double latencyCountBefore = proxy.metric("pgbailiff_statement_seconds_count");
            try (Statement s = idle.createStatement()) {
                for (int i = 0; i < 10; i++) {
                    s.executeQuery("SELECT " + i).close();
                }
            }
            assertEquals(statementsBefore + 10, proxy.metric("pgbailiff_statements_total"), "ten statements counted");
            assertEquals(latencyCountBefore + 10, proxy.metric("pgbailiff_statement_seconds_count"), "ten latencies recorded");

            double bytesBefore = proxy.metric("pgbailiff_bytes_total", "direction", "backend_to_client");
            try (Statement s = idle.createStatement(); ResultSet rs = s.executeQuery("SELECT repeat('x', 1000000)")) {
                rs.next();
            }
            assertTrue(proxy.metric("pgbailiff_bytes_total", "direction", "backend_to_client") - bytesBefore >= 1_000_000,
                    "a 1 MB value counted in the bytes sent to clients");

            inTx.setAutoCommit(false);
            inTx.createStatement().executeQuery("SELECT 1").close();
            CompletableFuture<SQLException> sleeping = Async.execute(busyStatement, "SELECT pg_sleep(30)");
            proxy.awaitRunning("m-busy", "pg_sleep(30)");
            String page = proxy.metrics();
            assertEquals(1, Http.metric(page, "pgbailiff_sessions", "state", "idle"), page);
            assertEquals(1, Http.metric(page, "pgbailiff_sessions", "state", "idle_in_transaction"), page);
            assertEquals(1, Http.metric(page, "pgbailiff_sessions", "state", "active"), page);
            assertEquals(3, Http.metric(page, "pgbailiff_client_connections"), page);

            busyStatement.cancel();
            SQLException cancelled = sleeping.get(10, TimeUnit.SECONDS);
            assertEquals("57014", cancelled == null ? null : cancelled.getSQLState());
            assertEquals(1, proxy.metric("pgbailiff_cancels_total", "kind", "cancel_request", "outcome", "done"));

            try (RawPgClient raw = new RawPgClient(proxy.port())) {
                byte[] key = new byte[4];
                new SecureRandom().nextBytes(key);
                raw.send(RawPgClient.cancelRequest(12345, key));
                raw.awaitClosedByServer();
            }
            Waits.until(() -> proxy.metric("pgbailiff_cancels_total", "kind", "cancel_request", "outcome", "not_found") == 1,
                    Duration.ofSeconds(5), "the cancel request with an unknown key counted");

            String busyId = proxy.session("m-busy").id().hex();
            try (Statement s = idle.createStatement()) {
                SQLException denied = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> s.execute("CANCEL SESSION '" + busyId + "'"));
                assertEquals("42501", denied.getSQLState());
            }
            assertEquals(1, proxy.metric("pgbailiff_cancels_total", "kind", "cancel_session", "outcome", "denied"));

            try (Connection admin = proxy.connect("postgres"); Statement s = admin.createStatement()) {
                s.execute("CANCEL SESSION '" + busyId + "'");
            }
            assertEquals(1, proxy.metric("pgbailiff_cancels_total", "kind", "cancel_session", "outcome", "done"));
            proxy.awaitGone("m-busy");
            inTx.rollback();
        }
        proxy.awaitSessions(java.util.List::isEmpty, Duration.ofSeconds(5), "all sessions closed");
        String page = proxy.metrics();
        assertEquals(0, Http.metric(page, "pgbailiff_sessions", "state", "idle"));
        assertTrue(page.contains("jvm_memory_used_bytes"), "JVM metrics are served too");
        assertTrue(page.contains("pgbailiff_statement_seconds_bucket{le="), "statement latency is a histogram");
    }

    @Test
    void healthAndReadiness() {
        HttpResponse<String> health = Http.get(proxy.server().httpAddress(), "/health");
        assertEquals(200, health.statusCode());
        HttpResponse<String> ready = Http.get(proxy.server().httpAddress(), "/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals(404, Http.get(proxy.server().httpAddress(), "/nothing").statusCode());
        HttpResponse<String> post = Http.request(proxy.server().httpAddress(), "POST", "/metrics");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(null));
        HttpResponse<String> head = Http.request(proxy.server().httpAddress(), "HEAD", "/ready");
        assertEquals(200, head.statusCode(), "load balancers may probe with HEAD");
        assertEquals("", head.body());
        assertEquals(String.valueOf("ready\n".length()), head.headers().firstValue("Content-Length").orElse(null));
        assertEquals(200, Http.get(proxy.server().httpAddress(), "/health").statusCode(), "the connection is still usable");
        try (TestProxy orphan = TestProxy.start("--backend", "127.0.0.1:1")) {
            assertEquals(200, Http.get(orphan.server().httpAddress(), "/health").statusCode(), "the process is up");
            HttpResponse<String> notReady = Http.get(orphan.server().httpAddress(), "/ready");
            assertEquals(503, notReady.statusCode());
            assertTrue(notReady.body().contains("unreachable"), notReady.body());
        }
    }
}
