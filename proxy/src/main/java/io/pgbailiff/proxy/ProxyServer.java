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
import java.util.concurrent.TimeUnit;

/**
 * A running pgbailiff node: accepts clients on the listen address and pairs each with its own
 * backend connection on the same event loop.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ProxyContext context;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;

    private ProxyServer(ProxyContext context, EventLoopGroup bossGroup, EventLoopGroup workerGroup, Channel serverChannel) {
        this.context = context;
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
        this.serverChannel = serverChannel;
    }

    public static ProxyServer start(Config config) throws InterruptedException {
        Transport transport = Transport.best();
        ProxyContext context = new ProxyContext(config, transport, new SessionRegistry(), new CancelKeys(),
                new BackendCanceller(transport, config), new SessionIdGenerator(config.nodeId()));
        EventLoopGroup boss = transport.newGroup(1);
        EventLoopGroup workers = transport.newGroup(0);
        try {
            Channel server = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
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
            ProxyServer proxy = new ProxyServer(context, boss, workers, server);
            log.info("pgbailiff node {} listening on {} ({}), forwarding to {}", Integer.toUnsignedString(config.nodeId()),
                    proxy.address(), transport.name(), config.backend());
            return proxy;
        } catch (RuntimeException | InterruptedException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
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

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
