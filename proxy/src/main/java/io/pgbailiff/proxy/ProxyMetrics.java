package io.pgbailiff.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgbailiff.adminsql.AdminStatement;
import io.pgbailiff.adminsql.SessionStatus;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The metrics of one proxy, served in Prometheus format at {@code GET /metrics}. Names follow
 * the Prometheus conventions with a {@code pgbailiff_} prefix.
 *
 * <p>Per-frame quantities (bytes) are not counted on the relay path: they are summed from the
 * live sessions' own counters when scraped, plus what closed sessions left behind.
 */
public final class ProxyMetrics implements AutoCloseable {

    /** Why a client connection was turned away. */
    enum Rejection { TOO_MANY_CONNECTIONS, TLS_REQUIRED, STARTUP_TIMEOUT, SHUTTING_DOWN, BACKEND_UNAVAILABLE }

    /** Which session-control action, and what came of it. */
    enum CancelKind { CANCEL_REQUEST, CANCEL_QUERY, CANCEL_SESSION, INTERRUPT }

    enum CancelOutcome { DONE, NOT_FOUND, NOTHING_TO_DO, DENIED }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final Counter accepted;
    private final Counter[] rejected = new Counter[Rejection.values().length];
    private final Counter[][] cancels = new Counter[CancelKind.values().length][CancelOutcome.values().length];
    private final Timer backendConnect;
    private final Timer statements;
    private final LongAdder closedStatements = new LongAdder();
    private final LongAdder closedBytesFromClient = new LongAdder();
    private final LongAdder closedBytesToClient = new LongAdder();

    ProxyMetrics(SessionRegistry sessions, ClientConnections connections, CancelKeys cancelKeys) {
        accepted = Counter.builder("pgbailiff.connections.accepted")
                .description("Client connections accepted").register(registry);
        for (Rejection r : Rejection.values()) {
            rejected[r.ordinal()] = Counter.builder("pgbailiff.connections.rejected")
                    .description("Client connections turned away, by reason")
                    .tag("reason", r.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        for (CancelKind k : CancelKind.values()) {
            for (CancelOutcome o : CancelOutcome.values()) {
                if (k == CancelKind.CANCEL_REQUEST && o == CancelOutcome.NOT_FOUND) {
                    FunctionCounter.builder("pgbailiff.cancels", cancelKeys, CancelKeys::unmatchedRequests)
                            .description("Cancel requests and session-control actions, by kind and outcome")
                            .tag("kind", "cancel_request").tag("outcome", "not_found").register(registry);
                    continue;
                }
                cancels[k.ordinal()][o.ordinal()] = Counter.builder("pgbailiff.cancels")
                        .description("Cancel requests and session-control actions, by kind and outcome")
                        .tag("kind", k.name().toLowerCase(Locale.ROOT))
                        .tag("outcome", o.name().toLowerCase(Locale.ROOT)).register(registry);
            }
        }
        backendConnect = Timer.builder("pgbailiff.backend.connect")
                .description("Time to open a TCP connection to the backend")
                .serviceLevelObjectives(ms(1), ms(5), ms(10), ms(50), ms(100), ms(500), ms(1000), ms(5000))
                .register(registry);
        statements = Timer.builder("pgbailiff.statement")
                .description("Statement latency as seen by pgbailiff, from the client's request to the backend's ReadyForQuery")
                .serviceLevelObjectives(ms(0.5), ms(1), ms(2), ms(5), ms(10), ms(25), ms(50), ms(100), ms(250),
                        ms(500), ms(1000), ms(2500), ms(5000), ms(10_000), ms(30_000), ms(60_000))
                .register(registry);
        for (SessionStatus status : SessionStatus.values()) {
            if (status == SessionStatus.CLOSED) {
                continue;
            }
            Gauge.builder("pgbailiff.sessions", sessions, r -> count(r, status))
                    .description("Sessions ready for queries, by state")
                    .tag("state", status.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        Gauge.builder("pgbailiff.client.connections", connections, ClientConnections::open)
                .description("Client connections open, including those still starting up").register(registry);
        FunctionCounter.builder("pgbailiff.statements", sessions, r -> closedStatements.sum() + sum(r, Field.STATEMENTS))
                .description("Statements completed").register(registry);
        FunctionCounter.builder("pgbailiff.bytes", sessions, r -> closedBytesFromClient.sum() + sum(r, Field.FROM_CLIENT))
                .description("Bytes relayed, by direction").tag("direction", "client_to_backend").baseUnit("bytes").register(registry);
        FunctionCounter.builder("pgbailiff.bytes", sessions, r -> closedBytesToClient.sum() + sum(r, Field.TO_CLIENT))
                .description("Bytes relayed, by direction").tag("direction", "backend_to_client").baseUnit("bytes").register(registry);
        Gauge.builder("pgbailiff.netty.direct.memory", PooledByteBufAllocator.DEFAULT, a -> a.metric().usedDirectMemory())
                .description("Direct memory held by Netty's pooled allocator").baseUnit("bytes").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    private enum Field { STATEMENTS, FROM_CLIENT, TO_CLIENT }

    private static double count(SessionRegistry sessions, SessionStatus status) {
        int n = 0;
        for (Session s : sessions.all()) {
            if (s.status() == status) {
                n++;
            }
        }
        return n;
    }

    private static double sum(SessionRegistry sessions, Field field) {
        long total = 0;
        for (Session s : sessions.all()) {
            total += switch (field) {
                case STATEMENTS -> s.statementCount();
                case FROM_CLIENT -> s.bytesFromClient();
                case TO_CLIENT -> s.bytesToClient();
            };
        }
        return total;
    }

    private static Duration ms(double millis) {
        return Duration.ofNanos((long) (millis * 1_000_000));
    }

    static CancelKind cancelKind(AdminStatement statement) {
        if (statement instanceof AdminStatement.Cancel c) {
            return c.target() == AdminStatement.Target.QUERY ? CancelKind.CANCEL_QUERY : CancelKind.CANCEL_SESSION;
        }
        return CancelKind.INTERRUPT;
    }

    void connectionAccepted() {
        accepted.increment();
    }

    void connectionRejected(Rejection reason) {
        rejected[reason.ordinal()].increment();
    }

    void cancel(CancelKind kind, CancelOutcome outcome) {
        cancels[kind.ordinal()][outcome.ordinal()].increment();
    }

    void backendConnected(long nanos) {
        backendConnect.record(nanos, TimeUnit.NANOSECONDS);
    }

    void statementCompleted(long nanos) {
        statements.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Keeps a closing session's totals in the counters after it leaves the registry. */
    void sessionClosed(Session session) {
        closedStatements.add(session.statementCount());
        closedBytesFromClient.add(session.bytesFromClient());
        closedBytesToClient.add(session.bytesToClient());
    }

    /** The current values in the Prometheus text format. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
