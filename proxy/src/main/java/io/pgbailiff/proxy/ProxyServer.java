package io.pgbailiff.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.pgbailiff.protocol.PgFrameDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A running pgbailiff node: accepts clients on the listen address and pairs each with its own
 * backend connection on the same event loop; serves metrics and health over HTTP.
 *
 * <p>Both connections of a session run with {@code TCP_NODELAY}, which Netty sets on every socket
 * channel it creates; setting it again would only cost one more system call per socket.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ProxyContext context;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    private final HttpEndpoints http;
    private boolean closed;

    private ProxyServer(ProxyContext context, EventLoopGroup workerGroup, Channel serverChannel, HttpEndpoints http) {
        this.context = context;
        this.workerGroup = workerGroup;
        this.serverChannel = serverChannel;
        this.http = http;
    }

    /**
     * Starts listening. A TLS certificate or key that cannot be used stops it here with a
     * {@link ConfigLoader.InvalidSettingException}, before any client is accepted.
     */
    public static ProxyServer start(Config config) throws InterruptedException {
        TlsContexts tls = TlsContexts.from(config);
        Transport transport = Transport.best();
        transport.checkReaches(config.backend());
        SessionRegistry registry = new SessionRegistry();
        ClientConnections connections = new ClientConnections(config.maxClientConnections());
        CancelKeys cancelKeys = new CancelKeys();
        ProxyMetrics metrics = new ProxyMetrics(registry, connections, cancelKeys);
        ProxyContext context = new ProxyContext(config, transport, registry, cancelKeys,
                new BackendCanceller(transport, config), new SessionIdGenerator(config.nodeId()), connections, metrics, tls);
        EventLoopGroup workers = transport.newGroup(config.threads());
        try {
            Channel server = new ServerBootstrap()
                    .group(workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("decoder",
                                    PgFrameDecoder.forClient(FrontendHandler.CLIENT_INTEREST, config.maxMessageSize()));
                            ch.pipeline().addLast("session", new FrontendHandler(context));
                        }
                    })
                    .bind(config.listen().host(), config.listen().port())
                    .sync()
                    .channel();
            HttpEndpoints http = null;
            if (config.http() != null) {
                try {
                    http = HttpEndpoints.start(config, metrics, transport, workers);
                } catch (RuntimeException e) {
                    server.close().syncUninterruptibly();
                    throw new ConfigLoader.InvalidSettingException("--http: cannot listen on " + config.http() + ": " + e.getMessage());
                }
            }
            ProxyServer proxy = new ProxyServer(context, workers, server, http);
            log.info("pgbailiff node {} listening on {} ({}, {} threads{}), forwarding to {} (backend TLS {}){}",
                    Integer.toUnsignedString(config.nodeId()), proxy.address(), transport.name(), config.threads(),
                    tls.offeredToClients() ? (config.tlsRequire() ? ", TLS required" : ", TLS offered") : "",
                    config.backend(), config.backend().isSocketDirectory() ? "not used on a Unix-domain socket"
                            : config.backendTls().setting(),
                    http == null ? "" : "; metrics at http://" + hostPort(http.address()) + "/metrics");
            return proxy;
        } catch (RuntimeException | InterruptedException e) {
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            metrics.close();
            throw e;
        }
    }

    private static String hostPort(InetSocketAddress a) {
        return new Config.HostPort(a.getAddress().getHostAddress(), a.getPort()).toString();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
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
     * Graceful shutdown: stop accepting, end each session once it is idle (no statement running,
     * no transaction open), and after {@code drainTimeout} end the rest with FATAL 57P01, their
     * running statements cancelled on the backend. Then close everything.
     */
    public void shutdown(Duration drainTimeout) {
        ClientConnections connections = context.connections();
        connections.startDraining();
        serverChannel.close().syncUninterruptibly();
        int open = connections.open();
        log.info("shutting down: no new connections; {} open, waiting up to {} for running statements", open, drainTimeout);
        connections.handlers().forEach(FrontendHandler::drain);
        if (!waitForClients(connections, drainTimeout)) {
            log.info("drain timeout: ending {} remaining sessions", connections.open());
            connections.handlers().forEach(FrontendHandler::terminate);
            waitForClients(connections, Duration.ofSeconds(5));
        }
        close();
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
        serverChannel.close().syncUninterruptibly();
        if (http != null) {
            http.close();
        }
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        context.metrics().close();
    }
}
