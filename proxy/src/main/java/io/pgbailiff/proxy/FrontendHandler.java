package io.pgbailiff.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.pgbailiff.adminsql.AdminExecutor;
import io.pgbailiff.adminsql.AdminResult;
import io.pgbailiff.adminsql.AdminSqlException;
import io.pgbailiff.adminsql.AdminSqlRecognizer;
import io.pgbailiff.adminsql.AdminStatement;
import io.pgbailiff.adminsql.AdminStatementParser;
import io.pgbailiff.adminsql.Caller;
import io.pgbailiff.adminsql.StatementSplitter;
import io.pgbailiff.protocol.BackendMessage;
import io.pgbailiff.protocol.FrameInterest;
import io.pgbailiff.protocol.FrontendMessage;
import io.pgbailiff.protocol.PgEncoder;
import io.pgbailiff.protocol.PgError;
import io.pgbailiff.protocol.PgFrame;
import io.pgbailiff.protocol.PgMessage;
import io.pgbailiff.protocol.PgFrameDecoder;
import io.pgbailiff.protocol.ProtocolException;
import io.pgbailiff.protocol.SqlState;
import io.pgbailiff.protocol.StartupPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Optional;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One client connection and its backend connection.
 *
 * <pre>
 *  AWAITING_STARTUP ──SSLRequest──▶ 'S' and TLS handshake if configured, else 'N'; stay
 *        │  ├──────GSSENCRequest──▶ answer 'N', stay
 *        │  └──────CancelRequest──▶ map the key, forward to the backend, close
 *        │ StartupMessage (refused: no TLS under --tls-require, 53300 over the connection limit,
 *        │                 57P03 while shutting down)
 *        ▼
 *   CONNECTING ──connect fails / times out──▶ FATAL 08006, close
 *        │ connected (and TLS negotiated per --backend-tls): StartupMessage sent on
 *        ▼
 *  AUTHENTICATING ── relay R/p exchanges; BackendKeyData swapped for pgbailiff's own; any other
 *        │                client message, from CONNECTING on, held
 *        │ first ReadyForQuery: session registered, held messages dispatched as in READY
 *        ▼
 *      READY ── relay both ways, session kept current from Q/P/B/E/C/S/F and Z/S;
 *        │      session-control statements answered here, in order with the backend's answers
 *        │ either side closes
 *        ▼
 *     CLOSED ── session removed, cancel key revoked; a statement still running is cancelled
 * </pre>
 *
 * A client that is not READY within the startup timeout is refused; a READY session idle longer
 * than the idle timeouts is ended; a draining proxy ends each session once it is idle.
 *
 * Both channels share one event loop, so no state here is touched concurrently. Session-control
 * statements are compiled and run on the session-control threads ({@link ProxyContext}); what
 * they need crosses over as arguments, and their results come back as tasks on the event loop.
 * Writes are not
 * flushed per message but once per read batch ({@code channelReadComplete}); when one side's
 * channel stops being writable, reading from the other side stops until it drains.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements SessionControl {
    private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);

    /** Client messages the proxy reads: all but the bulk CopyData. */
    static final FrameInterest CLIENT_INTEREST = FrameInterest.allExcept((char) FrontendMessage.COPY_DATA);
    /** Backend messages the proxy reads; DataRow, RowDescription, CopyData and the rest pass by their header alone. */
    static final FrameInterest BACKEND_INTEREST = FrameInterest.of(
            (char) BackendMessage.AUTHENTICATION, (char) BackendMessage.BACKEND_KEY_DATA,
            (char) BackendMessage.PARAMETER_STATUS, (char) BackendMessage.READY_FOR_QUERY,
            (char) BackendMessage.ERROR_RESPONSE, (char) BackendMessage.COPY_IN_RESPONSE);
    /** While a query of pgbailiff's own runs, every backend message is read whole. */
    private static final FrameInterest EVERY_BACKEND_MESSAGE = FrameInterest.allExcept();

    private static final AdminExecutor ADMIN = new AdminExecutor();
    /**
     * How long CANCEL SESSION waits for the backend's message in flight to end, so that the client
     * gets its FATAL on a message boundary. A client that does not read holds the backend back, and
     * the boundary never comes: its session is then ended without the message.
     */
    private static final long TERMINATE_GRACE_MILLIS = 2000;
    /** How long a closing connection waits for the client to take what was written to it. */
    private static final long CLOSE_FLUSH_GRACE_MILLIS = 10_000;
    /** How long a closed session keeps reading (and discarding) what its client still sends; see {@link #closeClient}. */
    private static final long CLOSE_LINGER_MILLIS = 2000;

    enum State { AWAITING_STARTUP, CONNECTING, AUTHENTICATING, READY, CLOSED }

    private final ProxyContext proxy;
    private State state = State.AWAITING_STARTUP;
    private Channel client;
    private Channel backend;
    private Session session;
    private CancelKeys.BackendKey backendKey;
    private CancelKeys.Entry clientKey;
    private boolean authenticationRequested;
    private boolean backendSentFatal;
    /**
     * Client messages held back, to be dispatched in order later: those sent before the session is
     * ready, while a session-control statement is compiled or answered, while a cancel pgbailiff
     * sent is on its way to the backend, while the backend fails a transaction block for a failed
     * session-control statement, and while earlier messages wait for the backend's answers.
     */
    private ArrayDeque<Object> held;
    /** Queries pgbailiff sent the backend itself, oldest first, whose replies are not the client's. */
    private final ArrayDeque<InternalQuery> internalQueries = new ArrayDeque<>(1);
    /** The held messages wait for the backend to answer everything sent before them. */
    private boolean heldUntilIdle;
    /** CancelRequests this session sent its backend that have not yet been delivered. */
    private int cancelsInFlight;
    /** A session-control query of this client is being answered. */
    private boolean answeringLocally;
    /** A session-control statement failed in a transaction block, and the backend is failing the block too. */
    private boolean abortingTransaction;
    /** Prepared session-control statements and their portals; empty and shared until the first one, as most sessions have none. */
    private java.util.Map<String, LocalStatement> localStatements = java.util.Collections.emptyMap();
    private java.util.Map<String, LocalPortal> localPortals = java.util.Collections.emptyMap();
    /** Extended-protocol messages were forwarded to the backend since the client's last Sync. */
    private boolean forwardedSinceSync;
    /** Extended-protocol messages were answered by pgbailiff since the client's last Sync. */
    private boolean localSinceSync;
    /** An extended-protocol error: client messages are discarded until its Sync. */
    private boolean skipUntilSync;
    /** The backend reported an error since its last ReadyForQuery. */
    private boolean errorSinceReady;
    /** The backend is in COPY FROM STDIN, until the client's CopyDone or CopyFail. */
    private boolean copyIn;
    /**
     * Client Syncs that will get no ReadyForQuery: a Sync sent right behind an Execute of COPY FROM
     * STDIN reaches the backend in copy mode, which ignores it (libpq then sends another after
     * CopyDone). The next Sync the client sends stands in for it.
     */
    private int syncsAbsorbedByCopy;
    /** CANCEL SESSION arrived while a backend message was half relayed: end the session at its end. */
    private boolean terminatePending;
    /** Syncs pgbailiff sent to close forwarded messages before answering one itself. */
    private int injectedSyncs;
    /** The open transaction was rolled back by an administrator; the client has not ended it yet. */
    private boolean transactionInterrupted;
    /** The client connection is encrypted. */
    private boolean tls;
    /** The backend connection is encrypted. */
    private boolean backendTls;
    /** This connection holds one of the {@code --max-client-connections} slots. */
    private boolean admitted;
    private ScheduledFuture<?> startupTimer;
    private ScheduledFuture<?> idleTimer;
    /** When the client last sent a message or was last answered, for the idle timeouts; 0 when they are off. */
    private long lastActivityNanos;
    /** The proxy is shutting down: end this session as soon as it is idle. */
    private boolean draining;
    /** The client sent Terminate: the backend closing the connection next is what it asked for. */
    private boolean clientTerminated;
    /** {@link #describeClient} of the client's address. */
    private String clientAddress;

    FrontendHandler(ProxyContext proxy) {
        this.proxy = proxy;
    }

    /**
     * How SHOW SESSIONS and the logs name a client: {@code ip:port} ({@code [ip]:port} for IPv6),
     * or {@code [local]} for one on the Unix-domain socket, as PostgreSQL's logs do.
     */
    private String describeClient() {
        return onUnixSocket() ? "[local]" : Config.HostPort.of((InetSocketAddress) client.remoteAddress()).toString();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        clientAddress = describeClient();
        ctx.pipeline().get(PgFrameDecoder.class).inspector(this::relayClientMessage);
        proxy.connections().opened(client);
        proxy.metrics().connectionAccepted();
        startupTimer = client.eventLoop().schedule(() -> guarded(this::startupTimedOut),
                proxy.config().startupTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lastActivityNanos != 0) {
            lastActivityNanos = System.nanoTime();
        }
        switch (state) {
            case AWAITING_STARTUP -> onStartupPacket((StartupPacket) msg);
            case CONNECTING, AUTHENTICATING -> duringStartUp(msg);
            case READY -> dispatch(msg);
            case CLOSED -> ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (backend != null && state != State.CONNECTING) {
            backend.flush();
        }
        endIfDrained();
    }

    private void onStartupPacket(StartupPacket packet) {
        if (packet instanceof StartupPacket.StartupMessage startup) {
            onStartupMessage(startup);
        } else if (packet instanceof StartupPacket.CancelRequest cancel) {
            onCancelRequest(cancel);
        } else if (packet instanceof StartupPacket.SslRequest && proxy.tls().offeredToClients() && !tls
                && !onUnixSocket()) {
            startTls();
        } else {
            client.writeAndFlush(PgEncoder.encryptionResponse(client.alloc(), false));
        }
    }

    /**
     * A client on the Unix-domain socket is neither offered TLS nor required to use it, as
     * PostgreSQL does (libpq does not even ask there): nothing it sends leaves the host.
     */
    private boolean onUnixSocket() {
        return client instanceof DomainSocketChannel;
    }

    /**
     * Answers 'S' in the clear, then encrypts everything after it. The decoder has already refused
     * any bytes the client sent behind its SSLRequest, so nothing unencrypted is read past this point.
     */
    private void startTls() {
        tls = true;
        client.pipeline().addFirst("tls", new SslHandler(proxy.tls().clientEngine(client.alloc()), true));
        client.writeAndFlush(PgEncoder.encryptionResponse(client.alloc(), true));
    }

    private void startupTimedOut() {
        if (state == State.AWAITING_STARTUP || state == State.CONNECTING || state == State.AUTHENTICATING) {
            log.info("client {} did not complete start-up within {}", clientAddress, ConfigLoader.show(proxy.config().startupTimeout()));
            proxy.metrics().connectionRejected(ProxyMetrics.Rejection.STARTUP_TIMEOUT);
            fatal(PgError.fatal(SqlState.QUERY_CANCELED, "canceling authentication due to timeout"));
        }
    }

    private void onCancelRequest(StartupPacket.CancelRequest request) {
        state = State.CLOSED;
        cancelStartupTimer();
        CancelKeys.BackendKey key = proxy.cancelKeys().lookup(request.processId(), request.secretKey());
        if (key == null) {
            proxy.cancelKeys().recordUnmatched(clientAddress, client.eventLoop());
            client.close();
            return;
        }
        proxy.metrics().cancel(ProxyMetrics.CancelKind.CANCEL_REQUEST, ProxyMetrics.CancelOutcome.DONE);
        proxy.canceller().cancel(client.eventLoop(), key).addListener(f -> client.close());
    }

    private void onStartupMessage(StartupPacket.StartupMessage startup) {
        String user = startup.user();
        if (user == null || user.isEmpty()) {
            fatal(PgError.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet"));
            return;
        }
        Config config = proxy.config();
        if (config.tlsRequire() && !tls && !onUnixSocket()) {
            proxy.metrics().connectionRejected(ProxyMetrics.Rejection.TLS_REQUIRED);
            fatal(PgError.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "pgbailiff accepts only encrypted connections, and this one is not encrypted")
                    .withHint("Connect with sslmode=require (or stricter)."));
            return;
        }
        if (proxy.connections().draining()) {
            proxy.metrics().connectionRejected(ProxyMetrics.Rejection.SHUTTING_DOWN);
            fatal(PgError.fatal(SqlState.CANNOT_CONNECT_NOW, "the database system is shutting down"));
            return;
        }
        if (!proxy.connections().admit()) {
            proxy.metrics().connectionRejected(ProxyMetrics.Rejection.TOO_MANY_CONNECTIONS);
            log.warn("refused client {}: already {} client connections (--max-client-connections)",
                    clientAddress, config.maxClientConnections());
            fatal(PgError.fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already"));
            return;
        }
        admitted = true;
        session = new Session(proxy.ids().next(), config.nodeId(), user, startup.database(),
                startup.applicationName(), clientAddress, this, proxy.metrics());
        if (tls) {
            session.onTls();
        }
        state = State.CONNECTING;
        long connectStart = System.nanoTime();
        ChannelFuture connect = proxy.transport().connectToBackend(client.eventLoop(), config.backend(),
                config.connectTimeout().toMillis(), pipeline -> {
                    PgFrameDecoder decoder = PgFrameDecoder.forBackend(BACKEND_INTEREST, Integer.MAX_VALUE);
                    decoder.inspector(this::relayBackendMessage);
                    pipeline.addLast("decoder", decoder);
                    pipeline.addLast("relay", new BackendHandler(this));
                });
        backend = connect.channel();
        connect.addListener((ChannelFutureListener) f -> guarded(() -> onBackendConnected(f, startup, connectStart)));
    }

    private void onBackendConnected(ChannelFuture f, StartupPacket.StartupMessage startup, long connectStart) {
        if (state == State.CLOSED) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            backendUnavailable(Errors.rootMessage(f.cause()));
            return;
        }
        proxy.metrics().backendConnected(System.nanoTime() - connectStart);
        if (proxy.tls().backendMode() == Config.BackendTls.DISABLE) {
            startBackendSession(startup);
            return;
        }
        backend.pipeline().addFirst("tls-negotiation", new BackendTlsNegotiator(proxy.tls(), proxy.config().backend(),
                encrypted -> guarded(() -> {
                    backendTls = encrypted;
                    startBackendSession(startup);
                }), reason -> guarded(() -> backendUnavailable(reason))));
        backend.writeAndFlush(PgEncoder.sslRequest(backend.alloc()));
    }

    private void backendUnavailable(String reason) {
        if (state == State.CLOSED) {
            return;
        }
        log.warn("could not connect to backend {} for {}: {}", proxy.config().backend().describe(), clientAddress,
                reason);
        proxy.metrics().connectionRejected(ProxyMetrics.Rejection.BACKEND_UNAVAILABLE);
        fatal(PgError.fatal(SqlState.CONNECTION_FAILURE, "could not connect to server " + proxy.config().backend().describe() + ": " + reason)
                .withHint("pgbailiff could not reach its backend PostgreSQL."));
    }

    /** The backend connection is open (and encrypted if so configured): start-up goes on as the client asked. */
    private void startBackendSession(StartupPacket.StartupMessage startup) {
        if (state != State.CONNECTING) {
            return;
        }
        state = State.AUTHENTICATING;
        backend.write(PgEncoder.startupMessage(backend.alloc(), startup.protocolVersion(), startup.parameters()),
                backend.voidPromise());
        backend.flush();
    }

    /**
     * A client message before the session is ready. Authentication responses and Terminate go to
     * the backend once it is connected. Anything else, such as a query pipelined behind the
     * StartupMessage, is held and dispatched like any message once the session is ready, so a
     * session-control statement is answered by pgbailiff and every statement is tracked. Clients
     * wait for the authentication exchange to end before sending more, so holding is rare; reading
     * stops meanwhile, which bounds what is held to what has already been read.
     */
    private void duringStartUp(Object msg) {
        if (state == State.AUTHENTICATING && msg instanceof PgFrame frame
                && (frame.type() == FrontendMessage.PASSWORD || frame.type() == FrontendMessage.TERMINATE)) {
            toBackend(frame);
            return;
        }
        if (held == null) {
            held = new ArrayDeque<>();
            client.config().setAutoRead(false);
        }
        held.add(msg);
    }

    /**
     * A client message in the READY state: held while pgbailiff is busy on the session's behalf,
     * answered locally if it is a session-control query, otherwise relayed.
     */
    private void dispatch(Object msg) {
        if (state != State.READY) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (held != null) {
            held.add(msg);
            client.config().setAutoRead(false);
            return;
        }
        if (!(msg instanceof PgFrame frame)) {
            toBackend(msg);
            return;
        }
        if (skipUntilSync) {
            skipUntilSyncMessage(frame);
            return;
        }
        try {
            switch (frame.type()) {
                case FrontendMessage.QUERY -> handleQuery(frame);
                case FrontendMessage.PARSE -> handleParse(frame);
                case FrontendMessage.BIND -> handleBind(frame);
                case FrontendMessage.DESCRIBE -> handleDescribe(frame);
                case FrontendMessage.EXECUTE -> handleExecute(frame);
                case FrontendMessage.CLOSE -> handleClose(frame);
                case FrontendMessage.SYNC -> handleSync(frame);
                case FrontendMessage.FUNCTION_CALL -> {
                    session.onFunctionCall();
                    toBackend(frame);
                }
                case FrontendMessage.COPY_DONE, FrontendMessage.COPY_FAIL -> {
                    copyIn = false;
                    toBackend(frame);
                }
                case FrontendMessage.FLUSH -> {
                    if (passFlush()) {
                        toBackend(frame);
                    } else {
                        frame.release();
                        client.flush();
                    }
                }
                default -> toBackend(frame);
            }
        } catch (RuntimeException e) {
            // decoding comes before a frame is passed on, held or released, so it is still ours here
            if (frame.refCnt() > 0) {
                frame.release();
            }
            throw e instanceof IndexOutOfBoundsException ? new ProtocolException("invalid message format") : e;
        }
    }

    /**
     * The client side's {@link io.pgbailiff.protocol.FrameInspector}. A message that goes to the
     * backend unchanged needs only the session's bookkeeping, done here by the same {@code pass*}
     * methods the {@code handle*} methods use for it; everything else is left to {@link #dispatch}.
     */
    private boolean relayClientMessage(PgMessage message) {
        if (state != State.READY || held != null || skipUntilSync) {
            return false;
        }
        return switch (message.type()) {
            case FrontendMessage.QUERY -> passQuery(FrontendMessage.Query.decode(message).sql());
            case FrontendMessage.PARSE -> passParse(FrontendMessage.Parse.decode(message));
            case FrontendMessage.BIND -> passBind(FrontendMessage.Bind.decode(message));
            case FrontendMessage.DESCRIBE -> passDescribe();
            case FrontendMessage.EXECUTE -> passExecute(FrontendMessage.Execute.decode(message));
            case FrontendMessage.CLOSE -> passClose(FrontendMessage.Target.decode(message));
            case FrontendMessage.SYNC -> passSync();
            case FrontendMessage.FLUSH -> passFlush();
            default -> false;
        };
    }

    /** A query without session-control statements: it is the backend's. */
    private boolean passQuery(String sql) {
        if (AdminSqlRecognizer.mightContainAdmin(sql)) {
            return false;
        }
        session.onQuery(sql);
        return true;
    }

    private void handleQuery(PgFrame frame) {
        String sql = FrontendMessage.Query.decode(frame).sql();
        if (AdminSqlRecognizer.mightContainAdmin(sql) && adminQuery(frame, sql)) {
            return;
        }
        session.onQuery(sql);
        writeToBackend(frame.content());
    }

    // ---- the extended protocol: statements and portals pgbailiff owns, and the backend's ----

    /** A prepared statement pgbailiff answers itself. */
    private record LocalStatement(String sql, AdminStatement statement, int[] parameterTypes) {
    }

    /** A portal bound to a {@link LocalStatement}. */
    private record LocalPortal(LocalStatement statement, List<String> parameters, short[] resultFormats) {
    }

    private void forwardExtended(PgFrame frame) {
        forwardedSinceSync = true;
        writeToBackend(frame.content());
    }

    /**
     * Before a message pgbailiff answers itself, everything the client sent earlier must have been
     * answered by the backend. Extended-protocol messages forwarded since the last Sync are closed
     * with a Sync of pgbailiff's own (its ReadyForQuery is kept from the client); the message is
     * then held until the backend is idle. {@link #takeForLocalAnswer} returns false if the message
     * was held, otherwise it consumes the message, to be answered now.
     */
    private boolean takeForLocalAnswer(PgFrame frame) {
        if (waitBeforeLocal(frame)) {
            return false;
        }
        frame.release();
        localSinceSync = true;
        return true;
    }

    private boolean waitBeforeLocal(PgFrame frame) {
        if (forwardedSinceSync) {
            forwardedSinceSync = false;
            injectedSyncs++;
            session.onSync();
            backend.writeAndFlush(PgEncoder.sync(backend.alloc()), backend.voidPromise());
        }
        if (session.hasRequestInFlight() || !internalQueries.isEmpty()) {
            held = new ArrayDeque<>();
            held.add(frame);
            heldUntilIdle = true;
            client.config().setAutoRead(false);
            return true;
        }
        return false;
    }

    private boolean passParse(FrontendMessage.Parse parse) {
        if (AdminSqlRecognizer.mightContainAdmin(parse.sql())) {
            return false;
        }
        parsedByBackend(parse);
        return true;
    }

    private void parsedByBackend(FrontendMessage.Parse parse) {
        localStatements.remove(parse.statement());
        session.onParse(parse.statement(), parse.sql());
        forwardedSinceSync = true;
    }

    private void handleParse(PgFrame frame) {
        FrontendMessage.Parse parse = FrontendMessage.Parse.decode(frame);
        Optional<AdminStatement> admin;
        AdminSqlException error = null;
        try {
            admin = AdminSqlRecognizer.mightContainAdmin(parse.sql()) ? parseForPrepare(parse.sql()) : Optional.empty();
        } catch (AdminSqlException e) {
            admin = Optional.empty();
            error = e;
        }
        if (admin.isEmpty() && error == null) {
            parsedByBackend(parse);
            writeToBackend(frame.content());
            return;
        }
        if (!takeForLocalAnswer(frame)) {
            return;
        }
        if (error != null) {
            localError(error);
            return;
        }
        AdminStatement statement = admin.get();
        held = new ArrayDeque<>();
        answeringLocally = true;
        compileOffLoop(List.of(statement), new int[] {0}, compileError -> {
            answeringLocally = false;
            if (compileError != null) {
                localError(compileError);
            } else {
                if (localStatements.isEmpty()) {
                    localStatements = new java.util.HashMap<>();
                }
                localStatements.put(parse.statement(), new LocalStatement(parse.sql(), statement, parse.parameterTypes()));
                writeToClient(PgEncoder.parseComplete(client.alloc()));
            }
            releaseHeld();
            endIfDrained();
        });
    }

    private static Optional<AdminStatement> parseForPrepare(String sql) {
        List<StatementSplitter.Piece> pieces = StatementSplitter.split(sql);
        if (pieces.size() > 1) {
            for (StatementSplitter.Piece piece : pieces) {
                if (AdminStatementParser.recognize(piece.sql()).isPresent()) {
                    throw new AdminSqlException(SqlState.SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement");
                }
            }
            return Optional.empty();
        }
        return AdminStatementParser.recognize(sql);
    }

    /** A Bind of a statement the backend prepared. */
    private boolean passBind(FrontendMessage.Bind bind) {
        if (localStatements.containsKey(bind.statement())) {
            return false;
        }
        localPortals.remove(bind.portal());
        session.onBind(bind.portal(), bind.statement());
        forwardedSinceSync = true;
        return true;
    }

    private void handleBind(PgFrame frame) {
        FrontendMessage.Bind bind = FrontendMessage.Bind.decode(frame);
        if (passBind(bind)) {
            writeToBackend(frame.content());
            return;
        }
        LocalStatement statement = localStatements.get(bind.statement());
        if (waitBeforeLocal(frame)) {
            return;
        }
        FrontendMessage.BindValues values = FrontendMessage.BindValues.decode(frame);
        frame.release();
        localSinceSync = true;
        int expected = statement.statement().parameterCount();
        int formats = values.parameterFormats().length;
        int columns = statement.statement().columns().size();
        int resultFormats = values.resultFormats().length;
        if (formats > 1 && formats != values.values().size()) {
            localError(new AdminSqlException(SqlState.PROTOCOL_VIOLATION, "bind message has " + formats
                    + " parameter formats but " + values.values().size() + " parameters"));
            return;
        }
        if (resultFormats > 1 && resultFormats != columns) {
            localError(new AdminSqlException(SqlState.PROTOCOL_VIOLATION, "bind message has " + resultFormats
                    + " result formats but query has " + columns + " columns"));
            return;
        }
        if (values.values().size() != expected) {
            localError(new AdminSqlException(SqlState.PROTOCOL_VIOLATION, "bind message supplies " + values.values().size()
                    + " parameters, but prepared statement \"" + bind.statement() + "\" requires " + expected));
            return;
        }
        List<String> parameters = new ArrayList<>(expected);
        for (int i = 0; i < expected; i++) {
            byte[] v = values.values().get(i);
            int type = i < statement.parameterTypes().length ? statement.parameterTypes()[i] : 0;
            parameters.add(v == null ? null : values.binaryParameter(i) ? LocalResults.binaryParameter(type, v)
                    : new String(v, java.nio.charset.StandardCharsets.UTF_8));
        }
        if (localPortals.isEmpty()) {
            localPortals = new java.util.HashMap<>();
        }
        localPortals.put(bind.portal(), new LocalPortal(statement, parameters, values.resultFormats()));
        writeToClient(PgEncoder.bindComplete(client.alloc()));
    }

    /** A Describe while pgbailiff holds no statements or portals of its own. */
    private boolean passDescribe() {
        if (!localStatements.isEmpty() || !localPortals.isEmpty()) {
            return false;
        }
        forwardedSinceSync = true;
        return true;
    }

    private void handleDescribe(PgFrame frame) {
        if (passDescribe()) {
            writeToBackend(frame.content());
            return;
        }
        FrontendMessage.Target target = FrontendMessage.Target.decode(frame);
        LocalStatement statement = target.kind() == 'S' ? localStatements.get(target.name()) : null;
        LocalPortal portal = target.kind() == 'P' ? localPortals.get(target.name()) : null;
        if (statement == null && portal == null) {
            forwardExtended(frame);
            return;
        }
        if (!takeForLocalAnswer(frame)) {
            return;
        }
        if (statement != null) {
            int[] types = new int[statement.statement().parameterCount()];
            for (int i = 0; i < types.length; i++) {
                int declared = i < statement.parameterTypes().length ? statement.parameterTypes()[i] : 0;
                types[i] = declared != 0 ? declared : io.pgbailiff.adminsql.PgType.TEXT.oid();
            }
            writeToClient(PgEncoder.parameterDescription(client.alloc(), types));
        }
        AdminStatement described = statement != null ? statement.statement() : portal.statement().statement();
        if (described.columns().isEmpty()) {
            writeToClient(PgEncoder.noData(client.alloc()));
        } else {
            writeToClient(LocalResults.rowDescription(client.alloc(), described.columns(),
                    portal == null ? null : portal.resultFormats()));
        }
    }

    /** An Execute of a portal the backend bound. */
    private boolean passExecute(FrontendMessage.Execute execute) {
        if (localPortals.containsKey(execute.portal())) {
            return false;
        }
        session.onExecute(execute.portal());
        forwardedSinceSync = true;
        return true;
    }

    private void handleExecute(PgFrame frame) {
        FrontendMessage.Execute execute = FrontendMessage.Execute.decode(frame);
        if (passExecute(execute)) {
            writeToBackend(frame.content());
            return;
        }
        LocalPortal portal = localPortals.get(execute.portal());
        if (!takeForLocalAnswer(frame)) {
            return;
        }
        session.onQuery(portal.statement().sql());
        held = new ArrayDeque<>();
        answeringLocally = true;
        java.util.function.BiConsumer<AdminResult, AdminSqlException> answer = (result, error) -> {
            if (error != null) {
                localError(error);
            } else {
                writeToClient(LocalResults.encode(client.alloc(), result, portal.resultFormats()));
            }
            session.onReadyForQuery(session.transactionStatus());
            client.flush();
            answeringLocally = false;
            releaseHeld();
            endIfDrained();
        };
        lookUpCaller(caller -> execute(portal.statement().statement(), portal.parameters(), caller, answer),
                error -> answer.accept(null, error));
    }

    /** A Close of a statement or portal of the backend's. */
    private boolean passClose(FrontendMessage.Target close) {
        if (close.kind() == 'S' ? localStatements.containsKey(close.name()) : localPortals.containsKey(close.name())) {
            return false;
        }
        session.onClose(close.kind(), close.name());
        forwardedSinceSync = true;
        return true;
    }

    private void handleClose(PgFrame frame) {
        FrontendMessage.Target close = FrontendMessage.Target.decode(frame);
        if (passClose(close)) {
            writeToBackend(frame.content());
            return;
        }
        if (!takeForLocalAnswer(frame)) {
            return;
        }
        (close.kind() == 'S' ? localStatements : localPortals).remove(close.name());
        writeToClient(PgEncoder.closeComplete(client.alloc()));
    }

    /** A Sync that the backend answers: not one a COPY swallows, nor one after only local answers. */
    private boolean passSync() {
        if (syncsAbsorbedByCopy > 0 || onlyAnsweredLocallySinceSync()) {
            return false;
        }
        localSinceSync = false;
        forwardedSinceSync = false;
        session.onSync();
        return true;
    }

    /** A Flush the backend must see: anything since the last Sync went to it. */
    private boolean passFlush() {
        return !onlyAnsweredLocallySinceSync();
    }

    /** Everything since the client's last Sync was answered by pgbailiff: the backend has nothing to sync or flush. */
    private boolean onlyAnsweredLocallySinceSync() {
        return localSinceSync && !forwardedSinceSync;
    }

    private void handleSync(PgFrame frame) {
        if (passSync()) {
            writeToBackend(frame.content());
            return;
        }
        if (syncsAbsorbedByCopy > 0) {
            syncsAbsorbedByCopy--;
            writeToBackend(frame.content());
            return;
        }
        frame.release();
        localSinceSync = false;
        writeToClient(PgEncoder.readyForQuery(client.alloc(), session.transactionStatus()));
        client.flush();
    }

    /** After an error in the extended protocol, everything up to the next Sync is discarded, as PostgreSQL does. */
    private void skipUntilSyncMessage(PgFrame frame) {
        byte type = frame.type();
        frame.release();
        if (type == FrontendMessage.SYNC) {
            skipUntilSync = false;
            localSinceSync = false;
            forwardedSinceSync = false;
            writeToClient(PgEncoder.readyForQuery(client.alloc(), session.transactionStatus()));
            client.flush();
        }
    }

    private void localError(AdminSqlException e) {
        writeToClient(PgEncoder.errorResponse(client.alloc(), LocalResults.error(e)));
        skipUntilSync = true;
        if (inTransactionBlock()) {
            if (held == null) {
                held = new ArrayDeque<>();
            }
            abortingTransaction = true;
            failTransactionBlock(e, () -> {
                abortingTransaction = false;
                client.eventLoop().execute(() -> guarded(() -> {
                    releaseHeld();
                    endIfDrained();
                }));
            });
        }
    }

    private boolean inTransactionBlock() {
        return session.transactionStatus() == BackendMessage.ReadyForQuery.IN_TRANSACTION;
    }

    /**
     * PostgreSQL fails the transaction block a statement fails in: every later statement gets
     * 25P02 until ROLLBACK. A session-control statement fails in pgbailiff, not in the backend, so
     * pgbailiff has the backend fail the block too, with a statement of its own that raises an
     * error (PostgreSQL's log shows it with the error's SQLSTATE). From then on the block is the
     * backend's to report and to end, as if the statement had failed there.
     */
    private void failTransactionBlock(AdminSqlException e, Runnable then) {
        internalQuery(raise("a session-control statement failed in this transaction block", e.state()), q -> then.run());
    }

    /** A statement that fails with this message and SQLSTATE, whose text the message cannot break out of. */
    private static String raise(String message, SqlState state) {
        return "DO $pgbailiff$BEGIN RAISE EXCEPTION '" + message.replace("'", "''").replace("%", "%%").replace("$", "")
                + "' USING ERRCODE = '" + state.code() + "'; END$pgbailiff$";
    }

    /**
     * Answers a simple Query made of session-control statements, after everything the client sent
     * before it has been answered. A string mixing them with ordinary statements is refused whole,
     * before anything runs. Returns false if the query holds no session-control statement.
     */
    private boolean adminQuery(PgFrame frame, String sql) {
        List<AdminStatement> statements = new ArrayList<>();
        List<StatementSplitter.Piece> pieces = StatementSplitter.split(sql);
        int[] offsets = new int[pieces.size()];
        boolean ordinary = false;
        try {
            for (StatementSplitter.Piece piece : pieces) {
                Optional<AdminStatement> recognized;
                try {
                    recognized = AdminStatementParser.recognize(piece.sql());
                } catch (AdminSqlException e) {
                    throw atOffset(e, piece.offset());
                }
                if (recognized.isPresent()) {
                    offsets[statements.size()] = piece.offset();
                    statements.add(recognized.get());
                }
                ordinary |= recognized.isEmpty();
            }
        } catch (AdminSqlException e) {
            runLocally(frame, sql, List.of(), offsets, e);
            return true;
        }
        if (statements.isEmpty()) {
            return false;
        }
        if (ordinary) {
            runLocally(frame, sql, List.of(), offsets, new AdminSqlException(SqlState.FEATURE_NOT_SUPPORTED,
                    "session-control statements cannot be combined with other statements in one query string",
                    "Send SHOW SESSIONS, CANCEL ... and md_* statements on their own.", 0));
            return true;
        }
        runLocally(frame, sql, statements, offsets, null);
        return true;
    }

    /** An error found in one statement of a query string, its position counted in the whole string. */
    private static AdminSqlException atOffset(AdminSqlException e, int offset) {
        return e.position() > 0 && offset > 0
                ? new AdminSqlException(e.state(), e.getMessage(), e.hint(), e.position() + offset) : e;
    }

    /**
     * Answers a query string of session-control statements: each is compiled (all before any
     * runs, as PostgreSQL parses a whole string first), then run in order.
     */
    private void runLocally(PgFrame frame, String sql, List<AdminStatement> statements, int[] offsets,
                            AdminSqlException parseError) {
        if (waitBeforeLocal(frame)) {
            return;
        }
        frame.release();
        session.onQuery(sql);
        held = new ArrayDeque<>();
        answeringLocally = true;
        if (parseError != null) {
            finishLocalQuery(List.of(), parseError);
            return;
        }
        compileOffLoop(statements, offsets, compileError -> {
            if (compileError != null) {
                finishLocalQuery(List.of(), compileError);
            } else {
                lookUpCaller(caller -> runInOrder(statements, 0, new ArrayList<>(), caller),
                        error -> finishLocalQuery(List.of(), error));
            }
        });
    }

    /**
     * Compiles session-control statements on the session-control threads. JSqlParser takes tens
     * of microseconds per token, so a select with a list of thousands of ids would otherwise hold
     * up every session on this event loop. {@code then} gets the first error (its position counted
     * in the whole query string) or null, on this session's event loop, unless the session ended.
     */
    private void compileOffLoop(List<AdminStatement> statements, int[] offsets,
                                java.util.function.Consumer<AdminSqlException> then) {
        if (statements.stream().noneMatch(AdminStatement::needsCompiling)) {
            then.accept(null);
            return;
        }
        CompletableFuture.runAsync(() -> {
            if (!client.isActive()) {
                return;
            }
            for (int i = 0; i < statements.size(); i++) {
                try {
                    statements.get(i).compile();
                } catch (AdminSqlException e) {
                    throw atOffset(e, offsets[i]);
                }
            }
        }, proxy.sqlCompiler()).whenComplete((done, error) -> client.eventLoop().execute(() -> guarded(() -> {
            if (state == State.READY) {
                then.accept(error == null ? null : asAdminError(error));
            }
        })));
    }

    /** A failure of a session-control statement as the error its client gets. */
    private AdminSqlException asAdminError(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (cause instanceof AdminSqlException e) {
            return e;
        }
        log.error("session-control statement failed in session {}", session.id(), cause);
        return new AdminSqlException(SqlState.INTERNAL_ERROR, "internal error in pgbailiff: " + cause);
    }

    private void runInOrder(List<AdminStatement> statements, int index, List<AdminResult> results, Caller caller) {
        if (index == statements.size()) {
            finishLocalQuery(results, null);
            return;
        }
        execute(statements.get(index), List.of(), caller, (result, error) -> {
            if (error != null) {
                finishLocalQuery(results, error);
            } else {
                results.add(result);
                runInOrder(statements, index + 1, results, caller);
            }
        });
    }

    /**
     * Runs one session-control statement on the session-control threads: building and filtering
     * the rows of every session takes time in proportion to their number and to the select.
     * {@code then} gets its result or error on this session's event loop.
     */
    private void execute(AdminStatement statement, List<String> parameters, Caller caller,
                         java.util.function.BiConsumer<AdminResult, AdminSqlException> then) {
        ProxySessionDirectory directory = new ProxySessionDirectory(proxy.registry(), proxy.metrics(),
                Integer.toUnsignedLong(proxy.config().nodeId()), caller, clientAddress);
        CompletableFuture<AdminResult> result;
        if (session.transactionStatus() == BackendMessage.ReadyForQuery.FAILED_TRANSACTION) {
            result = CompletableFuture.failedFuture(new AdminSqlException(SqlState.IN_FAILED_SQL_TRANSACTION,
                    "current transaction is aborted, commands ignored until end of transaction block"));
        } else {
            result = CompletableFuture.supplyAsync(() -> client.isActive() ? ADMIN.execute(statement, parameters, caller, directory)
                    : CompletableFuture.<AdminResult>failedFuture(new AdminSqlException(SqlState.CONNECTION_FAILURE,
                    "the session ended")), proxy.sessionControl()).thenCompose(java.util.function.Function.identity());
        }
        result.whenComplete((r, error) -> client.eventLoop().execute(() -> guarded(() -> {
            if (state != State.READY) {
                return;
            }
            if (error == null) {
                then.accept(r, null);
                return;
            }
            AdminSqlException e = asAdminError(error);
            if (e.state() == SqlState.INSUFFICIENT_PRIVILEGE) {
                ProxySessionDirectory.auditDenied(caller, clientAddress, e.getMessage());
                proxy.metrics().cancel(ProxyMetrics.cancelKind(statement), ProxyMetrics.CancelOutcome.DENIED);
            }
            then.accept(null, e);
        })));
    }

    /**
     * Runs work scheduled on the event loop (a task or listener, where Netty would only log an
     * exception): a failure ends the session like one in the pipeline, so nothing stays held.
     */
    private void guarded(Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            client.pipeline().fireExceptionCaught(e);
        }
    }

    /** Writes the results of a local query (and its error, if one ended it) and the ReadyForQuery. */
    private void finishLocalQuery(List<AdminResult> results, AdminSqlException error) {
        if (state != State.READY) {
            return;
        }
        if (error != null && inTransactionBlock()) {
            failTransactionBlock(error, () -> writeLocalQueryAnswer(results, error));
            return;
        }
        writeLocalQueryAnswer(results, error);
    }

    private void writeLocalQueryAnswer(List<AdminResult> results, AdminSqlException error) {
        if (state != State.READY) {
            return;
        }
        for (AdminResult r : results) {
            writeToClient(LocalResults.encode(client.alloc(), r, null));
        }
        if (error != null) {
            writeToClient(PgEncoder.errorResponse(client.alloc(), LocalResults.error(error)));
        }
        byte status = session.transactionStatus();
        session.onReadyForQuery(status);
        writeToClient(PgEncoder.readyForQuery(client.alloc(), status));
        client.flush();
        answeringLocally = false;
        releaseHeld();
        endIfDrained();
    }

    /**
     * Writes a message pgbailiff answers itself. Nothing may follow a FATAL error, so once the
     * backend has sent one (the session is about to end) local answers are dropped.
     */
    private void writeToClient(ByteBuf buf) {
        if (backendSentFatal) {
            buf.release();
            return;
        }
        sendToClient(buf);
    }

    /** Writes to the client, counting the bytes for SHOW SESSIONS. */
    private void sendToClient(ByteBuf bytes) {
        session.addBytesToClient(bytes.readableBytes());
        client.write(bytes, client.voidPromise());
    }

    /**
     * The caller's privileges as the backend sees them now (SET ROLE included), read with one
     * query of pgbailiff's own on the caller's backend connection. If that query fails (the
     * client's own cancel request can hit it, or its transaction has failed), the statement
     * fails with the backend's error: privileges are never guessed.
     */
    private void lookUpCaller(java.util.function.Consumer<Caller> then, java.util.function.Consumer<AdminSqlException> failed) {
        internalQuery(callerQuery(proxy.config().adminRoles()), q -> {
            if (q.error != null || q.rows.isEmpty()) {
                SqlState state = q.error == null ? null : SqlState.fromCode(q.error.sqlState());
                failed.accept(state != null ? new AdminSqlException(state, q.error.message())
                        : new AdminSqlException(SqlState.INTERNAL_ERROR, "could not read the caller's privileges"
                        + (q.error == null ? "" : ": " + q.error.message())));
                return;
            }
            List<String> row = q.rows.get(0);
            then.accept(new Caller(session.id(), session.userName(), "on".equals(row.get(0)), "t".equals(row.get(1)),
                    "t".equals(row.get(2)), "t".equals(row.get(3))));
        });
    }

    /**
     * The caller's privileges, for the current role as PostgreSQL's own checks use it. Every name
     * is qualified: the query runs in the caller's session, where a temporary view such as
     * {@code pg_roles} or a function earlier on the search path would otherwise answer for the
     * catalog, and it uses no operator, which the search path could also supply. Superuser status
     * is the {@code is_superuser} setting, which the caller cannot set.
     */
    private static String callerQuery(List<String> adminRoles) {
        String admin = adminRoles.isEmpty() ? "false"
                : adminRoles.stream()
                .map(r -> "COALESCE(pg_catalog.pg_has_role(CURRENT_USER, pg_catalog.to_regrole(pg_catalog.quote_ident("
                        + literal(r) + ")), 'MEMBER'), false)")
                .collect(java.util.stream.Collectors.joining(" OR "));
        return "SELECT pg_catalog.current_setting('is_superuser'),"
                + " pg_catalog.pg_has_role(CURRENT_USER, 'pg_read_all_stats', 'MEMBER'),"
                + " pg_catalog.pg_has_role(CURRENT_USER, 'pg_signal_backend', 'MEMBER'), " + admin;
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private void toBackend(Object msg) {
        if (msg instanceof PgFrame frame) {
            clientTerminated |= frame.type() == FrontendMessage.TERMINATE;
            writeToBackend(frame.content());
        } else {
            writeToBackend((ByteBuf) msg);
        }
    }

    private void writeToBackend(ByteBuf bytes) {
        session.addBytesFromClient(bytes.readableBytes());
        backend.write(bytes, backend.voidPromise());
        if (!backend.isWritable()) {
            client.config().setAutoRead(false);
        }
    }

    /** A message from the backend, on its way to the client. */
    void fromBackend(Object msg) {
        if (state == State.CLOSED) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!internalQueries.isEmpty()) {
            swallowInternalReply(msg);
            return;
        }
        ByteBuf bytes;
        if (msg instanceof PgFrame frame) {
            if (!inspectBackendMessage(frame)) {
                frame.release();
                return;
            }
            bytes = frame.content();
        } else {
            bytes = (ByteBuf) msg;
        }
        sendToClient(bytes);
        if (!client.isWritable()) {
            backend.config().setAutoRead(false);
        }
    }

    /**
     * The backend side's {@link io.pgbailiff.protocol.FrameInspector}: the ReadyForQuery that ends
     * an ordinary request, and a ParameterStatus (a dozen of them at start-up), only update the
     * session, so they travel with the messages around them.
     */
    private boolean relayBackendMessage(PgMessage message) {
        if (!internalQueries.isEmpty()) {
            return false;
        }
        return switch (message.type()) {
            case BackendMessage.READY_FOR_QUERY -> state == State.READY && injectedSyncs == 0 && !heldUntilIdle
                    && inspectBackendMessage(message);
            case BackendMessage.PARAMETER_STATUS -> (state == State.READY || state == State.AUTHENTICATING)
                    && inspectBackendMessage(message);
            default -> false;
        };
    }

    /** Updates the session from a backend message; false if the message is not to be relayed as is. */
    private boolean inspectBackendMessage(PgMessage message) {
        switch (message.type()) {
            case BackendMessage.READY_FOR_QUERY -> {
                if (state == State.AUTHENTICATING) {
                    becomeReady();
                }
                byte status = BackendMessage.ReadyForQuery.status(message);
                if (lastActivityNanos != 0) {
                    lastActivityNanos = System.nanoTime();
                }
                boolean injected = injectedSyncs > 0 && session.requestsInFlight() == 1;
                session.onReadyForQuery(status);
                boolean failed = errorSinceReady;
                errorSinceReady = false;
                if (injected) {
                    injectedSyncs--;
                    skipUntilSync |= failed;
                    if (heldUntilIdle) {
                        client.eventLoop().execute(this::releaseHeld);
                    }
                    return false;
                }
                if (status == BackendMessage.ReadyForQuery.IDLE) {
                    transactionInterrupted = false;
                }
                copyIn = false;
                if (heldUntilIdle && !session.hasRequestInFlight()) {
                    client.eventLoop().execute(this::releaseHeld);
                }
            }
            case BackendMessage.PARAMETER_STATUS -> session.onParameterStatus(message, state == State.AUTHENTICATING);
            case BackendMessage.COPY_IN_RESPONSE -> {
                copyIn = true;
                if (session.headIsSyncedExtended()) {
                    syncsAbsorbedByCopy++;
                }
            }
            case BackendMessage.AUTHENTICATION -> {
                int code = BackendMessage.Authentication.decode(message).code();
                onAuthenticationRequest(code);
                if (code == BackendMessage.AUTH_SASL && !tls) {
                    return !offerSaslWithoutChannelBinding(message);
                }
            }
            case BackendMessage.BACKEND_KEY_DATA -> {
                BackendMessage.BackendKeyData key = BackendMessage.BackendKeyData.decode(message);
                backendKey = new CancelKeys.BackendKey(key.processId(), key.secretKey());
                session.onBackendKey(key.processId());
                if (clientKey != null) {
                    proxy.cancelKeys().revoke(clientKey);
                }
                clientKey = proxy.cancelKeys().issue(backendKey);
                ByteBuf own = PgEncoder.backendKeyData(client.alloc(), clientKey.processId(), clientKey.secret());
                sendToClient(own);
                return false;
            }
            case BackendMessage.ERROR_RESPONSE -> {
                BackendMessage.ErrorResponse error = BackendMessage.ErrorResponse.decode(message);
                if ("FATAL".equals(error.severity()) || "PANIC".equals(error.severity())) {
                    backendSentFatal = true;
                }
                errorSinceReady = true;
                if (state == State.AUTHENTICATING && tls && backendTls && error.message() != null
                        && error.message().contains("channel binding")) {
                    ByteBuf own = PgEncoder.errorResponse(client.alloc(), error.withField('H',
                            "pgbailiff and the server each hold their own TLS connection, so SCRAM channel binding cannot succeed"
                                    + " unless pgbailiff presents the server's certificate. Connect with channel_binding=disable,"
                                    + " or give pgbailiff the server's certificate and key (--tls-cert, --tls-key)."));
                    sendToClient(own);
                    return false;
                }
                if (transactionInterrupted && SqlState.IN_FAILED_SQL_TRANSACTION.code().equals(error.sqlState())) {
                    ByteBuf own = PgEncoder.errorResponse(client.alloc(), PgError.error(SqlState.IN_FAILED_SQL_TRANSACTION,
                            "current transaction was interrupted by an administrator, commands ignored until end of transaction block")
                            .withHint("End the transaction with ROLLBACK; the connection can be used as before."));
                    sendToClient(own);
                    return false;
                }
            }
            default -> {
            }
        }
        return true;
    }

    /**
     * A backend reached over TLS offers SCRAM-SHA-256-PLUS, which binds to that TLS connection. A
     * client on a clear-text connection to pgbailiff cannot use it, and libpq refuses a server
     * that offers it without TLS; so such a client is offered the mechanisms without channel
     * binding. (A TLS client keeps the full list; binding then only succeeds if pgbailiff
     * presents the backend's own certificate.) Returns true if it wrote the shortened list.
     */
    private boolean offerSaslWithoutChannelBinding(PgMessage message) {
        List<String> offered = BackendMessage.AuthenticationSasl.decode(message).mechanisms();
        List<String> usable = offered.stream().filter(m -> !m.endsWith("-PLUS")).toList();
        if (usable.size() == offered.size()) {
            return false;
        }
        ByteBuf own = PgEncoder.authenticationSasl(client.alloc(), usable);
        sendToClient(own);
        return true;
    }

    private void onAuthenticationRequest(int code) {
        String method = switch (code) {
            case BackendMessage.AUTH_OK -> authenticationRequested ? null : "trust";
            case BackendMessage.AUTH_CLEARTEXT_PASSWORD -> "password";
            case BackendMessage.AUTH_MD5_PASSWORD -> "md5";
            case BackendMessage.AUTH_SASL -> "scram-sha-256";
            case BackendMessage.AUTH_GSS -> "gss";
            case BackendMessage.AUTH_SSPI -> "sspi";
            default -> null;
        };
        if (code != BackendMessage.AUTH_OK) {
            authenticationRequested = true;
        }
        if (method != null) {
            session.onAuthenticationRequest(method);
        }
    }

    private void becomeReady() {
        state = State.READY;
        cancelStartupTimer();
        proxy.registry().add(session);
        if (held != null) {
            // after the ReadyForQuery being handled now has been passed to the client
            client.eventLoop().execute(this::releaseHeld);
        }
        if (idleTimeoutsOn()) {
            lastActivityNanos = System.nanoTime();
            scheduleIdleCheck(minIdleTimeoutNanos());
        }
        log.debug("session {} ready: user {} database {} from {}", session.id(), session.userName(),
                session.snapshot().databaseName(), clientAddress);
    }

    void backendReadComplete() {
        if (terminatePending && state != State.CLOSED && backendDecoder().atMessageBoundary()) {
            terminateNow();
            return;
        }
        client.flush();
        endIfDrained();
    }

    private void endIfDrained() {
        if (draining && isIdle()) {
            terminateNow();
        }
    }

    /** Nothing of the client's is running or waiting, and no transaction is open. */
    private boolean isIdle() {
        return waitingForClient() && session.transactionStatus() == BackendMessage.ReadyForQuery.IDLE;
    }

    /** Ready, and everything the client sent has been answered: the next move is the client's. */
    private boolean waitingForClient() {
        return state == State.READY && held == null && !answeringLocally && internalQueries.isEmpty()
                && !session.hasRequestInFlight();
    }

    // ---- timeouts ----

    private void cancelStartupTimer() {
        if (startupTimer != null) {
            startupTimer.cancel(false);
            startupTimer = null;
        }
    }

    private boolean idleTimeoutsOn() {
        return proxy.config().idleSessionTimeout() != null || proxy.config().idleInTransactionTimeout() != null;
    }

    private long minIdleTimeoutNanos() {
        Duration a = proxy.config().idleSessionTimeout();
        Duration b = proxy.config().idleInTransactionTimeout();
        return Math.min(a == null ? Long.MAX_VALUE : a.toNanos(), b == null ? Long.MAX_VALUE : b.toNanos());
    }

    private void scheduleIdleCheck(long delayNanos) {
        idleTimer = client.eventLoop().schedule(() -> guarded(this::checkIdle), delayNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * One timer per session, not one per statement: it wakes when the applicable timeout could
     * first have run out since the last activity, and goes back to sleep if it has not.
     */
    private void checkIdle() {
        idleTimer = null;
        if (state != State.READY) {
            return;
        }
        boolean waiting = waitingForClient();
        boolean inTransaction = session.transactionStatus() != BackendMessage.ReadyForQuery.IDLE;
        Duration timeout = inTransaction ? proxy.config().idleInTransactionTimeout() : proxy.config().idleSessionTimeout();
        long idleFor = System.nanoTime() - lastActivityNanos;
        if (waiting && timeout != null && idleFor >= timeout.toNanos()) {
            log.info("session {} idle{} for {}: ending it", session.id(), inTransaction ? " in a transaction" : "",
                    ConfigLoader.show(timeout));
            client.write(PgEncoder.errorResponse(client.alloc(), inTransaction
                    ? PgError.fatal(SqlState.IDLE_IN_TRANSACTION_SESSION_TIMEOUT, "terminating connection due to idle-in-transaction timeout")
                    : PgError.fatal(SqlState.IDLE_SESSION_TIMEOUT, "terminating connection due to idle-session timeout")),
                    client.voidPromise());
            close();
            return;
        }
        long next = timeout != null && waiting ? timeout.toNanos() - idleFor : minIdleTimeoutNanos();
        scheduleIdleCheck(Math.max(next, TimeUnit.MILLISECONDS.toNanos(10)));
    }

    // ---- shutdown ----

    /** The proxy is shutting down: the session ends now if idle, otherwise once it becomes idle. */
    void drain() {
        client.eventLoop().execute(() -> guarded(() -> {
            draining = true;
            if (state == State.AWAITING_STARTUP || state == State.CONNECTING || state == State.AUTHENTICATING) {
                proxy.metrics().connectionRejected(ProxyMetrics.Rejection.SHUTTING_DOWN);
                fatal(PgError.fatal(SqlState.CANNOT_CONNECT_NOW, "the database system is shutting down"));
            } else {
                endIfDrained();
            }
        }));
    }

    /** Client reads resume when the backend can take more, unless they are paused for messages held back. */
    void backendWritabilityChanged(boolean writable) {
        if (writable && held == null && (state == State.READY || state == State.AUTHENTICATING)) {
            client.config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable() && backend != null && (state == State.READY || state == State.AUTHENTICATING)) {
            backend.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        close();
    }

    void backendInactive() {
        if (state == State.CLOSED) {
            return;
        }
        if (terminatePending) {
            if (backendAtMessageBoundary()) {
                terminateNow();
            } else {
                close();
            }
            return;
        }
        if (!backendSentFatal && !clientTerminated && client.isActive() && backendAtMessageBoundary()) {
            client.write(PgEncoder.errorResponse(client.alloc(), PgError.fatal(SqlState.CONNECTION_FAILURE,
                    "server closed the connection unexpectedly")), client.voidPromise());
        }
        close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof ProtocolException p) {
            log.info("protocol error from {}: {}", clientAddress, p.getMessage());
            fatal(PgError.fatal(p.sqlState(), p.getMessage()));
        } else if (c instanceof IOException) {
            log.debug("client {} connection error: {}", clientAddress, c.toString());
            close();
        } else {
            log.error("unexpected error on client connection {}", clientAddress, c);
            fatal(PgError.fatal(SqlState.INTERNAL_ERROR, "internal error in pgbailiff: " + c));
        }
    }

    void backendException(Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof IOException io) {
            cause = io;
        }
        if (cause instanceof IOException) {
            log.debug("backend connection error for session {}: {}", session.id(), cause.toString());
        } else {
            log.error("unexpected error on backend connection of session {}", session.id(), cause);
        }
        backendInactive();
    }

    /**
     * Ends the session with an error of pgbailiff's own, unless the client can no longer take one:
     * after the backend's own FATAL (nothing follows a FATAL), or in the middle of a backend
     * message being relayed.
     */
    private void fatal(PgError error) {
        if (state == State.CLOSED) {
            return;
        }
        if (client.isActive() && !backendSentFatal && (backend == null || backendAtMessageBoundary())) {
            client.writeAndFlush(PgEncoder.errorResponse(client.alloc(), error));
        }
        close();
    }

    /**
     * Closes both sides once, after what is already written to the client has been flushed. A
     * statement still running on a live backend is cancelled first, so no orphan keeps running
     * after its client is gone.
     */
    private void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        cancelStartupTimer();
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        if (admitted) {
            admitted = false;
            proxy.connections().release();
        }
        if (session != null && session.hasRequestInFlight() && backendKey != null && backend != null && backend.isActive()) {
            log.debug("session {} closing mid-statement: cancelling it on the backend", session.id());
            proxy.canceller().cancel(client.eventLoop(), backendKey);
        }
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
            held = null;
        }
        if (session != null) {
            session.onClosed();
            proxy.registry().remove(session);
            proxy.metrics().sessionClosed(session);
        }
        if (clientKey != null) {
            proxy.cancelKeys().revoke(clientKey);
        }
        if (backend != null && backend.isOpen()) {
            backend.close();
        }
        closeClient();
    }

    /**
     * Ends the client connection without losing what was written to it. A socket closed while
     * its client is still sending answers that data with a reset, and the client then fails its
     * next write or read ("Broken pipe") instead of reading the FATAL waiting for it. So once the
     * last bytes are flushed, pgbailiff only shuts its sending side (after TLS close_notify) and
     * discards whatever the client still sends, until the client closes or
     * {@value #CLOSE_LINGER_MILLIS} ms pass. A client that does not take what was written is
     * closed after {@value #CLOSE_FLUSH_GRACE_MILLIS} ms.
     */
    private void closeClient() {
        if (!client.isOpen()) {
            return;
        }
        ChannelFuture flushed = client.writeAndFlush(Unpooled.EMPTY_BUFFER);
        if (!flushed.isDone()) {
            whileClientOpen(CLOSE_FLUSH_GRACE_MILLIS, client::close);
        }
        flushed.addListener(f -> {
            if (!f.isSuccess() || !client.isActive() || !(client instanceof DuplexChannel duplex)) {
                client.close();
                return;
            }
            whileClientOpen(CLOSE_LINGER_MILLIS, client::close);
            client.config().setAutoRead(true);
            SslHandler tlsHandler = client.pipeline().get(SslHandler.class);
            if (tlsHandler == null) {
                duplex.shutdownOutput();
            } else {
                tlsHandler.closeOutbound().addListener(sent -> duplex.shutdownOutput());
            }
        });
    }

    /** Runs the task after a delay on this session's event loop; the timer is cancelled if the client connection closes first. */
    private void whileClientOpen(long millis, Runnable task) {
        ScheduledFuture<?> timer = client.eventLoop().schedule(task, millis, TimeUnit.MILLISECONDS);
        client.closeFuture().addListener(f -> timer.cancel(false));
    }

    // ---- session control (SessionControl), each run on this session's event loop ----

    @Override
    public CompletableFuture<Boolean> terminate() {
        return onEventLoop(() -> {
            if (state == State.CLOSED) {
                return false;
            }
            if (backend != null && backend.isActive() && !backendDecoder().atMessageBoundary()) {
                terminatePending = true;
                if (session.runningSequence() != 0 && backendKey != null) {
                    proxy.canceller().cancel(client.eventLoop(), backendKey);
                }
                whileClientOpen(TERMINATE_GRACE_MILLIS, () -> guarded(() -> {
                    if (terminatePending && state != State.CLOSED) {
                        log.debug("session {} ended without its FATAL message: its client is not reading", session.id());
                        close();
                    }
                }));
                return true;
            }
            terminateNow();
            return true;
        });
    }

    private void terminateNow() {
        if (!backendSentFatal) {
            client.write(PgEncoder.errorResponse(client.alloc(), PgError.fatal(SqlState.ADMIN_SHUTDOWN,
                "terminating connection due to administrator command")), client.voidPromise());
        }
        close();
    }

    private PgFrameDecoder backendDecoder() {
        return (PgFrameDecoder) backend.pipeline().get("decoder");
    }

    /** Whether everything relayed from the backend so far ends on a message boundary, so a message of pgbailiff's own may follow. */
    private boolean backendAtMessageBoundary() {
        PgFrameDecoder decoder = backendDecoder();
        return decoder == null || decoder.atMessageBoundary();
    }

    @Override
    public CompletableFuture<Boolean> cancelStatement(long sequence) {
        return onEventLoop(() -> {
            if (state != State.READY || sequence == 0 || session.runningSequence() != sequence || !canCancelSafely()) {
                return false;
            }
            cancelRunningStatement();
            return true;
        });
    }

    @Override
    public CompletableFuture<Boolean> interrupt() {
        return onEventLoop(() -> {
            if (state != State.READY || !internalQueries.isEmpty()) {
                return false;
            }
            String running = session.runningSql();
            if (running != null) {
                if (endsTransaction(running) || !canCancelSafely()) {
                    return false;
                }
                cancelRunningStatement();
                return true;
            }
            if (session.transactionStatus() == BackendMessage.ReadyForQuery.IDLE || session.hasRequestInFlight()
                    || forwardedSinceSync || cancelsInFlight > 0 || answeringLocally || !internalQueries.isEmpty() || copyIn
                    || held != null || abortingTransaction) {
                return false;
            }
            rollBackIdleTransaction();
            return true;
        });
    }

    /**
     * Whether a CancelRequest now can only hit the running statement: it is the backend's and the
     * only request in flight (a later pipelined one could otherwise be hit if it finishes first),
     * and no other cancel or query of pgbailiff's own is under way on this connection.
     */
    private boolean canCancelSafely() {
        return backendKey != null && !answeringLocally && internalQueries.isEmpty() && cancelsInFlight == 0
                && session.requestsInFlight() == 1;
    }

    /**
     * Sends the backend a CancelRequest for the running statement and holds every further client
     * message until the backend has closed the cancel connection, by which time the signal has
     * reached the backend process: a statement sent after that cannot be hit by it.
     */
    private void cancelRunningStatement() {
        if (held == null) {
            held = new ArrayDeque<>();
        }
        cancelsInFlight++;
        session.onCancelSent(session.runningSequence());
        proxy.canceller().cancel(client.eventLoop(), backendKey).addListener(f -> {
            cancelsInFlight--;
            session.onCancelDelivered();
            releaseHeld();
        });
    }

    private void releaseHeld() {
        if (cancelsInFlight > 0 || answeringLocally || abortingTransaction) {
            return;
        }
        ArrayDeque<Object> messages = held;
        held = null;
        heldUntilIdle = false;
        if (messages == null || state != State.READY) {
            return;
        }
        Object msg;
        while ((msg = messages.poll()) != null) {
            try {
                dispatch(msg);
            } catch (RuntimeException e) {
                messages.forEach(ReferenceCountUtil::release);
                client.pipeline().fireExceptionCaught(e);
                return;
            }
            if (held != null) {
                // held again behind what was just forwarded, which must reach the backend for that to end
                held.addAll(messages);
                backend.flush();
                return;
            }
        }
        backend.flush();
        if (backend.isWritable()) {
            client.config().setAutoRead(true);
        }
    }

    /**
     * Rolls back the idle open transaction now, so its locks are released at once, then leaves the
     * backend in a failed transaction block: the client, which still believes it is in a
     * transaction, gets 25P02 at its next statement and its own ROLLBACK ends the block as usual.
     */
    private void rollBackIdleTransaction() {
        transactionInterrupted = true;
        internalQuery("ROLLBACK; BEGIN; " + raise("transaction interrupted by an administrator", SqlState.QUERY_CANCELED), result -> {
        });
    }

    /** A query pgbailiff runs on the session's backend connection for itself, and what it returned. */
    private static final class InternalQuery {
        final List<List<String>> rows = new ArrayList<>();
        BackendMessage.ErrorResponse error;
        final java.util.function.Consumer<InternalQuery> onDone;

        InternalQuery(java.util.function.Consumer<InternalQuery> onDone) {
            this.onDone = onDone;
        }
    }

    /**
     * Runs a query of pgbailiff's own on this session's backend connection while the client is
     * idle. Its replies are read whole (the decoder delivers every message type meanwhile) and
     * kept from the client, except asynchronous notifications, notices and parameter changes.
     */
    private void internalQuery(String sql, java.util.function.Consumer<InternalQuery> onDone) {
        internalQueries.add(new InternalQuery(onDone));
        backendDecoder().interest(EVERY_BACKEND_MESSAGE);
        backend.writeAndFlush(PgEncoder.query(backend.alloc(), sql), backend.voidPromise());
    }

    private void swallowInternalReply(Object msg) {
        if (!(msg instanceof PgFrame frame)) {
            // the tail of a message that began before the internal query: it is the client's
            writeToClient((ByteBuf) msg);
            return;
        }
        InternalQuery q = internalQueries.peek();
        switch (frame.type()) {
            case BackendMessage.NOTIFICATION_RESPONSE, BackendMessage.NOTICE_RESPONSE, BackendMessage.PARAMETER_STATUS -> {
                if (inspectBackendMessage(frame)) {
                    sendToClient(frame.content());
                    client.flush();
                    return;
                }
            }
            case BackendMessage.DATA_ROW -> q.rows.add(BackendMessage.DataRow.decodeText(frame).values());
            case BackendMessage.ERROR_RESPONSE -> q.error = BackendMessage.ErrorResponse.decode(frame);
            case BackendMessage.READY_FOR_QUERY -> {
                internalQueries.poll();
                if (internalQueries.isEmpty()) {
                    backendDecoder().interest(BACKEND_INTEREST);
                }
                session.onInternalReadyForQuery(BackendMessage.ReadyForQuery.status(frame));
                frame.release();
                q.onDone.accept(q);
                if (heldUntilIdle && internalQueries.isEmpty() && !session.hasRequestInFlight()) {
                    client.eventLoop().execute(this::releaseHeld);
                }
                return;
            }
            default -> {
            }
        }
        frame.release();
    }

    private static final java.util.regex.Pattern ENDS_TRANSACTION = java.util.regex.Pattern.compile(
            "(COMMIT|ROLLBACK|END|ABORT|PREPARE\\s+TRANSACTION)\\b", java.util.regex.Pattern.CASE_INSENSITIVE);

    /**
     * True if any statement of the text ends a transaction, comments before it (as ORMs add them)
     * aside. For a string of several statements this may be true while an earlier one still runs:
     * an interrupt then errs on the side of not losing a commit.
     */
    private static boolean endsTransaction(String sql) {
        for (StatementSplitter.Piece piece : StatementSplitter.split(sql)) {
            if (ENDS_TRANSACTION.matcher(StatementSplitter.withoutLeadingComments(piece.sql())).lookingAt()) {
                return true;
            }
        }
        return false;
    }

    private <T> CompletableFuture<T> onEventLoop(java.util.function.Supplier<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Channel ch = client;
        if (ch == null) {
            result.complete(null);
            return result;
        }
        ch.eventLoop().execute(() -> {
            try {
                result.complete(action.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }
}
