package io.pgbailiff.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.pgbailiff.protocol.BackendMessage;
import io.pgbailiff.protocol.FrameInterest;
import io.pgbailiff.protocol.FrontendMessage;
import io.pgbailiff.protocol.PgEncoder;
import io.pgbailiff.protocol.PgError;
import io.pgbailiff.protocol.PgFrame;
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
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.List;

/**
 * One client connection and its backend connection.
 *
 * <pre>
 *  AWAITING_STARTUP ──SSLRequest/GSSENCRequest──▶ answer 'N', stay
 *        │  └──────CancelRequest──▶ map the key, forward to the backend, close
 *        │ StartupMessage
 *        ▼
 *   CONNECTING ──connect fails / times out──▶ FATAL 08006, close
 *        │ connected: StartupMessage sent on, client reads resume
 *        ▼
 *  AUTHENTICATING ── relay R/p exchanges; BackendKeyData swapped for pgbailiff's own
 *        │ first ReadyForQuery: session registered
 *        ▼
 *      READY ── relay both ways, session kept current from Q/P/B/E/C/S/F and Z/S
 *        │ either side closes
 *        ▼
 *     CLOSED ── session removed, cancel key revoked; a statement still running is cancelled
 * </pre>
 *
 * Both channels share one event loop, so no state here is touched concurrently. Writes are not
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
            (char) BackendMessage.ERROR_RESPONSE);

    enum State { AWAITING_STARTUP, CONNECTING, AUTHENTICATING, READY, CLOSED }

    private final ProxyContext proxy;
    private State state = State.AWAITING_STARTUP;
    private Channel client;
    private Channel backend;
    private Session session;
    private CancelKeys.BackendKey backendKey;
    private CancelKeys.Entry clientKey;
    /** Client messages that arrived while the backend connection was being opened. */
    private List<Object> pendingToBackend;
    private boolean authenticationRequested;
    private boolean backendSentFatal;
    /** Client messages held back while a cancel pgbailiff sent is on its way to the backend. */
    private ArrayDeque<Object> held;
    /** Queries pgbailiff sent the backend itself, oldest first, whose replies are not the client's. */
    private final ArrayDeque<InternalQuery> internalQueries = new ArrayDeque<>();
    /** The open transaction was rolled back by an administrator; the client has not ended it yet. */
    private boolean transactionInterrupted;

    FrontendHandler(ProxyContext proxy) {
        this.proxy = proxy;
    }

    State state() {
        return state;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (state) {
            case AWAITING_STARTUP -> onStartupPacket((StartupPacket) msg);
            case CONNECTING -> {
                if (pendingToBackend == null) {
                    pendingToBackend = new ArrayList<>();
                }
                pendingToBackend.add(msg);
            }
            case AUTHENTICATING -> toBackend(msg);
            case READY -> {
                if (held != null) {
                    held.add(msg);
                    client.config().setAutoRead(false);
                } else {
                    toBackend(msg);
                }
            }
            case CLOSED -> ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (backend != null && state != State.CONNECTING) {
            backend.flush();
        }
    }

    private void onStartupPacket(StartupPacket packet) {
        if (packet instanceof StartupPacket.StartupMessage startup) {
            onStartupMessage(startup);
        } else if (packet instanceof StartupPacket.CancelRequest cancel) {
            onCancelRequest(cancel);
        } else {
            client.writeAndFlush(PgEncoder.encryptionResponse(client.alloc(), false));
        }
    }

    private void onCancelRequest(StartupPacket.CancelRequest request) {
        state = State.CLOSED;
        CancelKeys.BackendKey key = proxy.cancelKeys().lookup(request.processId(), request.secretKey());
        if (key == null) {
            log.debug("ignored cancel request with an unknown key from {}", client.remoteAddress());
            client.close();
            return;
        }
        proxy.canceller().cancel(client.eventLoop(), key).addListener(f -> client.close());
    }

    private void onStartupMessage(StartupPacket.StartupMessage startup) {
        String user = startup.user();
        if (user == null || user.isEmpty()) {
            fatal(PgError.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet"));
            return;
        }
        session = new Session(proxy.ids().next(), proxy.config().nodeId(), user, startup.database(),
                startup.applicationName(), (InetSocketAddress) client.remoteAddress(), this);
        state = State.CONNECTING;
        client.config().setAutoRead(false);
        Config config = proxy.config();
        ChannelFuture connect = new Bootstrap()
                .group(client.eventLoop())
                .channel(proxy.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("decoder", PgFrameDecoder.forBackend(BACKEND_INTEREST, Integer.MAX_VALUE));
                        ch.pipeline().addLast("relay", new BackendHandler(FrontendHandler.this));
                    }
                })
                .connect(config.backend().host(), config.backend().port());
        backend = connect.channel();
        connect.addListener((ChannelFutureListener) f -> onBackendConnected(f, startup));
    }

    private void onBackendConnected(ChannelFuture f, StartupPacket.StartupMessage startup) {
        if (state == State.CLOSED) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            log.warn("could not connect to backend {} for {}: {}", proxy.config().backend(), client.remoteAddress(),
                    f.cause().toString());
            fatal(PgError.fatal(SqlState.CONNECTION_FAILURE,
                    "could not connect to server " + proxy.config().backend() + ": " + rootMessage(f.cause()))
                    .withHint("pgbailiff could not reach its backend PostgreSQL."));
            return;
        }
        state = State.AUTHENTICATING;
        backend.write(PgEncoder.startupMessage(backend.alloc(), startup.protocolVersion(), startup.parameters()),
                backend.voidPromise());
        if (pendingToBackend != null) {
            for (Object msg : pendingToBackend) {
                toBackend(msg);
            }
            pendingToBackend = null;
        }
        backend.flush();
        client.config().setAutoRead(true);
    }

    private void toBackend(Object msg) {
        ByteBuf bytes;
        if (msg instanceof PgFrame frame) {
            bytes = frame.content();
            if (state == State.READY) {
                try {
                    track(frame);
                } catch (IndexOutOfBoundsException e) {
                    frame.release();
                    throw new ProtocolException("invalid message format");
                } catch (RuntimeException e) {
                    frame.release();
                    throw e;
                }
            }
        } else {
            bytes = (ByteBuf) msg;
        }
        session.addBytesFromClient(bytes.readableBytes());
        backend.write(bytes, backend.voidPromise());
        if (!backend.isWritable()) {
            client.config().setAutoRead(false);
        }
    }

    private void track(PgFrame frame) {
        switch (frame.type()) {
            case FrontendMessage.QUERY -> session.onQuery(FrontendMessage.Query.decode(frame).sql());
            case FrontendMessage.PARSE -> {
                FrontendMessage.Parse parse = FrontendMessage.Parse.decode(frame);
                session.onParse(parse.statement(), parse.sql());
            }
            case FrontendMessage.BIND -> {
                FrontendMessage.Bind bind = FrontendMessage.Bind.decode(frame);
                session.onBind(bind.portal(), bind.statement());
            }
            case FrontendMessage.EXECUTE -> session.onExecute(FrontendMessage.Execute.decode(frame).portal());
            case FrontendMessage.CLOSE -> {
                FrontendMessage.Target close = FrontendMessage.Target.decode(frame);
                session.onClose(close.kind(), close.name());
            }
            case FrontendMessage.SYNC -> session.onSync();
            case FrontendMessage.FUNCTION_CALL -> session.onFunctionCall();
            default -> {
            }
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
            if (!inspectBackendFrame(frame)) {
                frame.release();
                return;
            }
            bytes = frame.content();
        } else {
            bytes = (ByteBuf) msg;
        }
        session.addBytesToClient(bytes.readableBytes());
        client.write(bytes, client.voidPromise());
        if (!client.isWritable()) {
            backend.config().setAutoRead(false);
        }
    }

    /** Updates the session from a backend message; false if the message is not to be relayed as is. */
    private boolean inspectBackendFrame(PgFrame frame) {
        switch (frame.type()) {
            case BackendMessage.READY_FOR_QUERY -> {
                if (state == State.AUTHENTICATING) {
                    becomeReady();
                }
                byte status = BackendMessage.ReadyForQuery.status(frame);
                session.onReadyForQuery(status);
                if (status == BackendMessage.ReadyForQuery.IDLE) {
                    transactionInterrupted = false;
                }
            }
            case BackendMessage.PARAMETER_STATUS -> {
                BackendMessage.ParameterStatus p = BackendMessage.ParameterStatus.decode(frame);
                session.onParameterStatus(p.name(), p.value());
            }
            case BackendMessage.AUTHENTICATION -> onAuthenticationRequest(BackendMessage.Authentication.decode(frame).code());
            case BackendMessage.BACKEND_KEY_DATA -> {
                BackendMessage.BackendKeyData key = BackendMessage.BackendKeyData.decode(frame);
                backendKey = new CancelKeys.BackendKey(key.processId(), key.secretKey());
                session.onBackendKey(key.processId());
                if (clientKey != null) {
                    proxy.cancelKeys().revoke(clientKey);
                }
                clientKey = proxy.cancelKeys().issue(backendKey);
                ByteBuf own = PgEncoder.backendKeyData(client.alloc(), clientKey.processId(), clientKey.secret());
                session.addBytesToClient(own.readableBytes());
                client.write(own, client.voidPromise());
                return false;
            }
            case BackendMessage.ERROR_RESPONSE -> {
                BackendMessage.ErrorResponse error = BackendMessage.ErrorResponse.decode(frame);
                if ("FATAL".equals(error.severity()) || "PANIC".equals(error.severity())) {
                    backendSentFatal = true;
                }
                if (transactionInterrupted && SqlState.IN_FAILED_SQL_TRANSACTION.code().equals(error.sqlState())) {
                    ByteBuf own = PgEncoder.errorResponse(client.alloc(), PgError.error(SqlState.IN_FAILED_SQL_TRANSACTION,
                            "current transaction was interrupted by an administrator, commands ignored until end of transaction block")
                            .withHint("End the transaction with ROLLBACK; the connection can be used as before."));
                    session.addBytesToClient(own.readableBytes());
                    client.write(own, client.voidPromise());
                    return false;
                }
            }
            default -> {
            }
        }
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
        proxy.registry().add(session);
        log.debug("session {} ready: user {} database {} from {}", session.id(), session.userName(),
                session.snapshot().databaseName(), client.remoteAddress());
    }

    void backendReadComplete() {
        client.flush();
    }

    void backendWritabilityChanged(boolean writable) {
        if (writable && (state == State.READY || state == State.AUTHENTICATING)) {
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
        if (!backendSentFatal && client.isActive()) {
            client.write(PgEncoder.errorResponse(client.alloc(), PgError.fatal(SqlState.CONNECTION_FAILURE,
                    "server closed the connection unexpectedly")), client.voidPromise());
        }
        close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof ProtocolException p) {
            log.info("protocol error from {}: {}", client.remoteAddress(), p.getMessage());
            fatal(PgError.fatal(p.sqlState(), p.getMessage()));
        } else if (c instanceof IOException) {
            log.debug("client {} connection error: {}", client.remoteAddress(), c.toString());
            close();
        } else {
            log.error("unexpected error on client connection {}", client.remoteAddress(), c);
            fatal(PgError.fatal(SqlState.INTERNAL_ERROR, "internal error in pgbailiff: " + c));
        }
    }

    void backendException(Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("backend connection error for session {}: {}", session.id(), cause.toString());
        } else {
            log.error("unexpected error on backend connection of session {}", session.id(), cause);
        }
        backendInactive();
    }

    private void fatal(PgError error) {
        if (state == State.CLOSED) {
            return;
        }
        if (client.isActive()) {
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
        if (session != null && session.hasRequestInFlight() && backendKey != null && backend != null && backend.isActive()) {
            log.debug("session {} closing mid-statement: cancelling it on the backend", session.id());
            proxy.canceller().cancel(client.eventLoop(), backendKey);
        }
        if (pendingToBackend != null) {
            pendingToBackend.forEach(ReferenceCountUtil::release);
            pendingToBackend = null;
        }
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
            held = null;
        }
        if (session != null) {
            session.onClosed();
            proxy.registry().remove(session);
        }
        if (clientKey != null) {
            proxy.cancelKeys().revoke(clientKey);
        }
        if (backend != null) {
            backend.close();
        }
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    // ---- session control (SessionControl), each run on this session's event loop ----

    @Override
    public CompletableFuture<Boolean> terminate() {
        return onEventLoop(() -> {
            if (state == State.CLOSED) {
                return false;
            }
            client.write(PgEncoder.errorResponse(client.alloc(), PgError.fatal(SqlState.ADMIN_SHUTDOWN,
                    "terminating connection due to administrator command")), client.voidPromise());
            close();
            return true;
        });
    }

    @Override
    public CompletableFuture<Boolean> cancelStatement(long sequence) {
        return onEventLoop(() -> {
            if (state != State.READY || sequence == 0 || session.runningSequence() != sequence) {
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
                if (endsTransaction(running)) {
                    return false;
                }
                cancelRunningStatement();
                return true;
            }
            if (session.transactionStatus() == BackendMessage.ReadyForQuery.IDLE || session.hasRequestInFlight()) {
                return false;
            }
            rollBackIdleTransaction();
            return true;
        });
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
        proxy.canceller().cancel(client.eventLoop(), backendKey).addListener(f -> releaseHeld());
    }

    private void releaseHeld() {
        ArrayDeque<Object> messages = held;
        held = null;
        if (messages == null || state != State.READY) {
            return;
        }
        Object msg;
        while ((msg = messages.poll()) != null) {
            toBackend(msg);
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
        internalQuery("ROLLBACK; BEGIN; SELECT 1/0 AS \"transaction interrupted by an administrator\"", result -> {
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
        ((PgFrameDecoder) backend.pipeline().get("decoder")).interest(FrameInterest.allExcept());
        backend.writeAndFlush(PgEncoder.query(backend.alloc(), sql), backend.voidPromise());
    }

    private void swallowInternalReply(Object msg) {
        if (!(msg instanceof PgFrame frame)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        InternalQuery q = internalQueries.peek();
        switch (frame.type()) {
            case BackendMessage.NOTIFICATION_RESPONSE, BackendMessage.NOTICE_RESPONSE, BackendMessage.PARAMETER_STATUS -> {
                if (inspectBackendFrame(frame)) {
                    session.addBytesToClient(frame.content().readableBytes());
                    client.writeAndFlush(frame.content(), client.voidPromise());
                    return;
                }
            }
            case BackendMessage.DATA_ROW -> q.rows.add(BackendMessage.DataRow.decodeText(frame).values());
            case BackendMessage.ERROR_RESPONSE -> q.error = BackendMessage.ErrorResponse.decode(frame);
            case BackendMessage.READY_FOR_QUERY -> {
                internalQueries.poll();
                if (internalQueries.isEmpty()) {
                    ((PgFrameDecoder) backend.pipeline().get("decoder")).interest(BACKEND_INTEREST);
                }
                session.onInternalReadyForQuery(BackendMessage.ReadyForQuery.status(frame));
                frame.release();
                q.onDone.accept(q);
                return;
            }
            default -> {
            }
        }
        frame.release();
    }

    private static boolean endsTransaction(String sql) {
        String s = sql.stripLeading().toUpperCase(Locale.ROOT);
        return s.startsWith("COMMIT") || s.startsWith("ROLLBACK") || s.startsWith("END") || s.startsWith("ABORT")
                || s.startsWith("PREPARE TRANSACTION") || s.startsWith("COMMIT PREPARED");
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

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }
}
