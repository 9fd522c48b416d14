package io.pgbailiff.proxy;

import io.pgbailiff.adminsql.SessionId;
import io.pgbailiff.adminsql.SessionSnapshot;
import io.pgbailiff.adminsql.SessionStatus;
import io.pgbailiff.protocol.BackendMessage;
import io.pgbailiff.protocol.PgMessage;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;

/**
 * One client connection and what it is doing, kept current from the message stream.
 *
 * <p>Every request that the backend answers with exactly one ReadyForQuery (a Query, a Sync, a
 * FunctionCall) is queued when it is sent and dequeued at that ReadyForQuery; the head of the
 * queue is what runs now. Extended-protocol messages before a Sync count as one request, named
 * after the statement of their first Execute.
 *
 * <p>The {@code on*} methods run on the session's event loop only. Readers on other threads see a
 * consistent {@link Activity} published with one volatile write per change.
 */
public final class Session {

    /**
     * A published, immutable view of the changing part of a session. Start times are
     * {@link System#nanoTime} readings, {@link #NO_TIME} when there is none: durations then do not
     * move when the wall clock is set, and a statement reads the monotonic clock, which is cheaper.
     * A snapshot shows them as wall-clock times counted from the session's start, so that every
     * listing shows the same time for the same statement.
     */
    record Activity(SessionStatus status, String activeQuery, long activeQueryStartNanos, long activeQuerySequence,
                    String lastQuery, long transactionStartNanos, long transactionCount, long statementCount) {
    }

    /** No start time: {@link System#nanoTime} can return any long, but not this one in practice. */
    private static final long NO_TIME = Long.MIN_VALUE;

    private static final class Request {
        boolean extended;
        String sql;
        final long startNanos;
        final long sequence;

        Request(String sql, long startNanos, long sequence) {
            this.sql = sql;
            this.startNanos = startNanos;
            this.sequence = sequence;
        }
    }

    private static final byte[] APPLICATION_NAME = "application_name".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] IS_SUPERUSER = "is_superuser".getBytes(StandardCharsets.US_ASCII);
    private static final VarHandle BYTES_FROM_CLIENT;
    private static final VarHandle BYTES_TO_CLIENT;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            BYTES_FROM_CLIENT = lookup.findVarHandle(Session.class, "bytesFromClient", long.class);
            BYTES_TO_CLIENT = lookup.findVarHandle(Session.class, "bytesToClient", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SessionId id;
    private final int nodeId;
    private final String userName;
    private final String databaseName;
    /** {@code host:port}, or {@code [local]} on the Unix-domain socket, as SHOW SESSIONS shows it. */
    private final String clientAddress;
    /** When the session started, to the microsecond as PostgreSQL keeps times, and the monotonic clock then. */
    private final Instant start = Instant.now().truncatedTo(ChronoUnit.MICROS);
    private final long startNanos = System.nanoTime();
    private final SessionControl control;
    private final ProxyMetrics metrics;

    private volatile String applicationName;
    private volatile String authenticationMethod = "trust";
    private volatile boolean tls;
    private volatile int backendPid;
    private volatile boolean superuser;
    /** The statement a cancel sent by pgbailiff is on its way to, 0 when none. */
    private volatile long cancellingSequence;
    private volatile Activity activity = new Activity(SessionStatus.IDLE, null, NO_TIME, 0, null, NO_TIME, 0, 0);
    @SuppressWarnings("unused") // written through BYTES_FROM_CLIENT
    private long bytesFromClient;
    @SuppressWarnings("unused") // written through BYTES_TO_CLIENT
    private long bytesToClient;

    private final ArrayDeque<Request> inFlight = new ArrayDeque<>(2);
    /** Prepared statements' and portals' SQL text. */
    private final SqlByName statements = new SqlByName();
    private final SqlByName portals = new SqlByName();
    /** The request the extended-protocol messages since the last Sync belong to, once one of them is an Execute. */
    private Request openExtended;
    private byte transactionStatus = 'I';
    private long nextSequence = 1;
    private long transactionStartNanos = NO_TIME;
    private long transactionCount;
    private long statementCount;
    private String lastQuery;

    Session(SessionId id, int nodeId, String userName, String databaseName, String applicationName,
            String clientAddress, SessionControl control, ProxyMetrics metrics) {
        this.control = control;
        this.metrics = metrics;
        this.id = id;
        this.nodeId = nodeId;
        this.userName = userName;
        this.databaseName = databaseName;
        this.applicationName = applicationName;
        this.clientAddress = clientAddress;
    }

    public SessionId id() {
        return id;
    }

    SessionControl control() {
        return control;
    }

    public String userName() {
        return userName;
    }

    /** The sequence number of the statement running now, 0 when none. Event loop only. */
    long runningSequence() {
        Request r = running();
        return r == null ? 0 : r.sequence;
    }

    /** The text of the statement running now, null when none. Event loop only. */
    String runningSql() {
        Request r = running();
        return r == null ? null : r.sql;
    }

    /** The backend's transaction status as of its last ReadyForQuery: 'I', 'T' or 'E'. Event loop only. */
    byte transactionStatus() {
        return transactionStatus;
    }

    /** A ReadyForQuery answering a request pgbailiff sent itself, not one of the client's. */
    void onInternalReadyForQuery(byte status) {
        transactionStatus = status;
        if (status == 'I') {
            transactionStartNanos = NO_TIME;
        }
        publish();
    }

    private Request running() {
        for (Request r : inFlight) {
            if (r.sql != null) {
                return r;
            }
        }
        return null;
    }

    void onCancelSent(long sequence) {
        cancellingSequence = sequence;
    }

    void onCancelDelivered() {
        cancellingSequence = 0;
    }

    /** Whether the oldest request is extended-protocol messages whose Sync the client has already sent. */
    boolean headIsSyncedExtended() {
        Request head = inFlight.peek();
        return head != null && head.extended && head != openExtended;
    }

    /** How many requests await their ReadyForQuery. Event loop only. */
    int requestsInFlight() {
        return inFlight.size();
    }

    /** True while a statement (or a Sync) awaits its ReadyForQuery. */
    boolean hasRequestInFlight() {
        return !inFlight.isEmpty() || openExtended != null;
    }

    void onQuery(String sql) {
        inFlight.add(new Request(sql, System.nanoTime(), nextSequence++));
        publish();
    }

    void onParse(String statement, String sql) {
        statements.put(statement, sql);
    }

    void onBind(String portal, String statement) {
        portals.put(portal, statements.get(statement));
    }

    void onExecute(String portal) {
        String sql = portals.get(portal);
        if (openExtended == null) {
            openExtended = new Request(sql, System.nanoTime(), nextSequence++);
            openExtended.extended = true;
            inFlight.add(openExtended);
            publish();
        } else if (openExtended.sql == null && sql != null) {
            openExtended.sql = sql;
            publish();
        }
    }

    void onClose(byte kind, String name) {
        (kind == 'S' ? statements : portals).remove(name);
    }

    void onSync() {
        if (openExtended != null) {
            openExtended = null;
        } else {
            inFlight.add(new Request(null, System.nanoTime(), nextSequence++));
        }
    }

    void onFunctionCall() {
        inFlight.add(new Request("<function call>", System.nanoTime(), nextSequence++));
        publish();
    }

    void onReadyForQuery(byte status) {
        Request done = inFlight.poll();
        byte previous = transactionStatus;
        transactionStatus = status;
        if (done != null && done.sql != null) {
            statementCount++;
            metrics.statementCompleted(System.nanoTime() - done.startNanos);
            lastQuery = done.sql;
            if (previous == 'I') {
                transactionCount++;
                if (status != 'I') {
                    transactionStartNanos = done.startNanos;
                }
            }
        }
        if (status == 'I') {
            transactionStartNanos = NO_TIME;
        }
        publish();
    }

    /**
     * Follows the two reported parameters SHOW SESSIONS and the privilege checks use. Whether the
     * session is a superuser's is taken from start-up only: like PostgreSQL, which protects a
     * backend by the role it logged in as, a superuser's session that has run {@code SET ROLE}
     * to an ordinary role is still a superuser's (the backend reports {@code is_superuser} for
     * the current role, which SET ROLE changes).
     */
    void onParameterStatus(PgMessage status, boolean duringStartUp) {
        String value = BackendMessage.ParameterStatus.valueIfNamed(status, APPLICATION_NAME);
        if (value != null) {
            applicationName = value;
            return;
        }
        if (duringStartUp) {
            value = BackendMessage.ParameterStatus.valueIfNamed(status, IS_SUPERUSER);
            if (value != null) {
                superuser = "on".equals(value);
            }
        }
    }

    void onAuthenticationRequest(String method) {
        authenticationMethod = method;
    }

    void onBackendKey(int pid) {
        backendPid = pid;
    }

    void addBytesFromClient(int n) {
        BYTES_FROM_CLIENT.setOpaque(this, (long) BYTES_FROM_CLIENT.getOpaque(this) + n);
    }

    void addBytesToClient(int n) {
        BYTES_TO_CLIENT.setOpaque(this, (long) BYTES_TO_CLIENT.getOpaque(this) + n);
    }

    void onTls() {
        tls = true;
    }

    SessionStatus status() {
        return activity.status();
    }

    long statementCount() {
        return activity.statementCount();
    }

    long bytesFromClient() {
        return (long) BYTES_FROM_CLIENT.getOpaque(this);
    }

    long bytesToClient() {
        return (long) BYTES_TO_CLIENT.getOpaque(this);
    }

    void onClosed() {
        Activity a = activity;
        activity = new Activity(SessionStatus.CLOSED, null, NO_TIME, 0, a.lastQuery(), NO_TIME, a.transactionCount(),
                a.statementCount());
    }

    private void publish() {
        Request running = running();
        SessionStatus status;
        long txStart = transactionStartNanos;
        if (running != null) {
            status = SessionStatus.ACTIVE;
            if (transactionStatus == 'I') {
                txStart = running.startNanos;
            }
        } else {
            status = switch (transactionStatus) {
                case 'T' -> SessionStatus.IDLE_IN_TRANSACTION;
                case 'E' -> SessionStatus.IDLE_IN_FAILED_TRANSACTION;
                default -> SessionStatus.IDLE;
            };
        }
        activity = new Activity(status,
                running == null ? null : running.sql,
                running == null ? NO_TIME : running.startNanos,
                running == null ? 0 : running.sequence,
                lastQuery, txStart, transactionCount, statementCount);
    }

    public SessionSnapshot snapshot() {
        Activity a = activity;
        return new SessionSnapshot(nodeId & 0xffffffffL, id, userName, databaseName, applicationName,
                clientAddress,
                authenticationMethod, tls, start, a.status(), a.activeQuery(), wallClock(a.activeQueryStartNanos()),
                a.activeQuerySequence(), a.lastQuery(), wallClock(a.transactionStartNanos()), a.transactionCount(),
                backendPid, superuser, a.statementCount(),
                bytesFromClient(), bytesToClient(),
                a.activeQuerySequence() != 0 && a.activeQuerySequence() == cancellingSequence);
    }

    private Instant wallClock(long nanos) {
        return nanos == NO_TIME ? null : start.plusNanos(nanos - startNanos).truncatedTo(ChronoUnit.MICROS);
    }

    @Override
    public String toString() {
        return "Session[" + id.hex() + " " + userName + "@" + databaseName + "]";
    }
}
