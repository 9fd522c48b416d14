package io.pgbailiff.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.channel.ServerChannel;
import io.pgbailiff.protocol.PgFrameDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A running pgbailiff node: accepts clients on the listen address (and on a Unix-domain socket if
 * so configured) and pairs each with its own backend connection on the same event loop; serves
 * metrics and health over HTTP.
 *
 * <p>TCP connections run with {@code TCP_NODELAY}, which Netty sets on every TCP channel it
 * creates; setting it again would only cost one more system call per socket.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    /** Threads compiling session-control selects, and threads running session-control statements. */
    private static final int SQL_COMPILER_THREADS = 2;
    private static final int SESSION_CONTROL_THREADS = 2;

    private final ProxyContext context;
    private final EventLoopGroup workerGroup;
    /** The TCP listener first, then the Unix-domain socket's if there is one. */
    private final List<Channel> listeners;
    private final HttpEndpoints http;
    private boolean closed;

    private ProxyServer(ProxyContext context, EventLoopGroup workerGroup, List<Channel> listeners, HttpEndpoints http) {
        this.context = context;
        this.workerGroup = workerGroup;
        this.listeners = List.copyOf(listeners);
        this.http = http;
    }

    /**
     * Starts listening. A TLS certificate or key that cannot be used stops it here with a
     * {@link ConfigLoader.InvalidSettingException}, before any client is accepted.
     */
    public static ProxyServer start(Config config) throws InterruptedException {
        TlsContexts tls = TlsContexts.from(config);
        Transport transport = Transport.best();
        transport.checkSupports(config);
        SessionRegistry registry = new SessionRegistry();
        ClientConnections connections = new ClientConnections(config.maxClientConnections());
        CancelKeys cancelKeys = new CancelKeys();
        ProxyMetrics metrics = new ProxyMetrics(registry, connections, cancelKeys);
        ExecutorService sqlCompiler = Executors.newFixedThreadPool(SQL_COMPILER_THREADS,
                new DefaultThreadFactory("pgbailiff-sql-compiler", true));
        ExecutorService sessionControl = Executors.newFixedThreadPool(SESSION_CONTROL_THREADS,
                new DefaultThreadFactory("pgbailiff-session-control", true));
        ProxyContext context = new ProxyContext(config, transport, registry, cancelKeys,
                new BackendCanceller(transport, config), new SessionIdGenerator(config.nodeId()), connections, metrics, tls,
                sqlCompiler, sessionControl);
        EventLoopGroup workers = transport.newGroup(config.threads());
        ChannelInitializer<Channel> clients = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("decoder",
                        PgFrameDecoder.forClient(FrontendHandler.CLIENT_INTEREST, config.maxMessageSize()));
                ch.pipeline().addLast("session", new FrontendHandler(context));
            }
        };
        List<Channel> listeners = new ArrayList<>(2);
        try {
            Channel server = listen(acceptor(workers, transport.serverChannel(), clients), config.listen(), "--listen");
            listeners.add(server);
            Path socket = config.unixSocket(((InetSocketAddress) server.localAddress()).getPort());
            if (socket != null) {
                listeners.add(ClientSocketFile.listen(acceptor(workers, transport.serverDomainSocketChannel(), clients), socket));
            }
            HttpEndpoints http = config.http() == null ? null
                    : HttpEndpoints.start(config, metrics, connections, transport, workers);
            ProxyServer proxy = new ProxyServer(context, workers, listeners, http);
            log.info("pgbailiff node {} listening on {}{} ({}, {} threads{}), forwarding to {} (backend TLS {}){}",
                    Integer.toUnsignedString(config.nodeId()), Config.HostPort.of(proxy.address()),
                    socket == null ? "" : " and " + socket, transport.name(), config.threads(),
                    tls.offeredToClients() ? (config.tlsRequire() ? ", TLS required on TCP" : ", TLS offered on TCP") : "",
                    config.backend(), config.backend().isSocketDirectory() ? "not used on a Unix-domain socket"
                            : config.backendTls().setting(),
                    http == null ? "" : "; metrics at http://" + Config.HostPort.of(http.address()) + "/metrics");
            return proxy;
        } catch (RuntimeException | InterruptedException e) {
            closeAll(listeners);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            sqlCompiler.shutdownNow();
            sessionControl.shutdownNow();
            metrics.close();
            throw e;
        }
    }

    /** Binds a TCP listener, or refuses the setting that named its address with the reason. */
    static Channel listen(ServerBootstrap acceptor, Config.HostPort address, String setting) throws InterruptedException {
        return bind(acceptor, new InetSocketAddress(address.host(), address.port()), setting + ": cannot listen on " + address);
    }

    /** Binds a listener; {@code refusal} names the setting and address when it cannot be bound. */
    static Channel bind(ServerBootstrap acceptor, SocketAddress address, String refusal) throws InterruptedException {
        ChannelFuture bound = acceptor.bind(address).await();
        if (!bound.isSuccess()) {
            throw new ConfigLoader.InvalidSettingException(refusal + ": " + Errors.rootMessage(bound.cause()));
        }
        return bound.channel();
    }

    private static ServerBootstrap acceptor(EventLoopGroup workers, Class<? extends ServerChannel> channel,
                                            ChannelInitializer<Channel> clients) {
        return new ServerBootstrap()
                .group(workers)
                .channel(channel)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childHandler(clients);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listeners.get(0).localAddress();
    }

    /** The Unix-domain socket clients may connect to as well; null with {@code --unix-socket-dir off}. */
    public Path unixSocket() {
        return context.config().unixSocket(address().getPort());
    }

    /** Where the HTTP endpoints listen, or null when {@code --http off}. */
    public InetSocketAddress httpAddress() {
        return http == null ? null : http.address();
    }

    public SessionRegistry sessions() {
        return context.registry();
    }

    /** CancelRequests whose key matched no session, since this node started. */
    public long unmatchedCancelRequests() {
        return context.cancelKeys().unmatchedRequests();
    }

    public Config config() {
        return context.config();
    }

    /** The metrics as {@code GET /metrics} serves them. */
    public String scrapeMetrics() {
        return context.metrics().scrape();
    }

    /**
     * What SIGHUP does, as a reload does for PostgreSQL: the TLS certificate and key offered to
     * clients are read again. The other settings come from the command line and the environment,
     * which a running process cannot re-read; they are kept.
     */
    public void reload() {
        try {
            if (context.tls().reloadClientCertificate()) {
                log.info("reload: TLS certificate {} and key {} read again; new connections use them",
                        context.config().tlsCert(), context.config().tlsKey());
            } else {
                log.info("reload: nothing to re-read (no TLS certificate is configured; other settings apply at start-up)");
            }
        } catch (ConfigLoader.InvalidSettingException e) {
            log.error("reload: {}; the certificate and key in use are kept", e.getMessage());
        }
    }

    /**
     * Graceful shutdown: stop accepting, end each session once it is idle (no statement running,
     * no transaction open), and after {@code drainTimeout} end the rest with FATAL 57P01, their
     * running statements cancelled on the backend. Then close everything.
     */
    public void shutdown(Duration drainTimeout) {
        ClientConnections connections = context.connections();
        connections.startDraining();
        stopListening();
        int open = connections.open();
        log.info("shutting down: no new connections; {} open, waiting up to {} for running statements", open, ConfigLoader.show(drainTimeout));
        connections.handlers().forEach(FrontendHandler::drain);
        if (!waitForClients(connections, drainTimeout)) {
            log.info("drain timeout: ending {} remaining sessions", connections.open());
            connections.handlers().forEach(FrontendHandler::terminate);
            waitForClients(connections, Duration.ofSeconds(5));
        }
        close();
    }

    private void stopListening() {
        closeAll(listeners);
    }

    private static void closeAll(List<Channel> listeners) {
        listeners.forEach(l -> l.close().syncUninterruptibly());
    }

    private static boolean waitForClients(ClientConnections connections, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (connections.open() > 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopListening();
        if (http != null) {
            http.close();
        }
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        context.sqlCompiler().shutdownNow();
        context.sessionControl().shutdownNow();
        context.metrics().close();
    }
}
