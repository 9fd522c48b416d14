package io.pgbailiff.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.function.Consumer;

/**
 * Native epoll where the platform has it, NIO elsewhere. Only epoll has Unix-domain sockets, to
 * reach a backend or to accept clients on.
 *
 * @param domainSocketChannel       makes channels for Unix-domain sockets; null where the transport has none
 * @param serverDomainSocketChannel the channel listening on a Unix-domain socket; null where the transport has none
 */
record Transport(String name, Class<? extends ServerSocketChannel> serverChannel,
                 ChannelFactory<? extends SocketChannel> socketChannel,
                 ChannelFactory<? extends Channel> domainSocketChannel,
                 Class<? extends ServerChannel> serverDomainSocketChannel) {

    static Transport best() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollServerSocketChannel.class, EpollSocketChannel::new,
                    EpollDomainSocketChannel::new, EpollServerDomainSocketChannel.class);
        }
        return new Transport("nio", NioServerSocketChannel.class, NioSocketChannel::new, null, null);
    }

    EventLoopGroup newGroup(int threads) {
        return "epoll".equals(name) ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    }

    /** Refuses, before anything listens, a Unix-domain socket this transport has no channel for. */
    void checkSupports(Config config) {
        if (config.backend().isSocketDirectory() && domainSocketChannel == null) {
            throw withoutDomainSockets("--backend " + config.backend());
        }
        if (config.unixSocketDir() != null && serverDomainSocketChannel == null) {
            throw withoutDomainSockets("--unix-socket-dir " + config.unixSocketDir());
        }
    }

    private static ConfigLoader.InvalidSettingException withoutDomainSockets(String setting) {
        return new ConfigLoader.InvalidSettingException(setting
                + ": a Unix-domain socket needs the native epoll transport, which is not available here ("
                + Epoll.unavailabilityCause() + ")");
    }

    /**
     * Opens one connection to the backend on {@code loop}: TCP, or the socket {@code .s.PGSQL.PORT}
     * in the directory when the host is one, as libpq reads a host that starts with a slash.
     * {@code init} sets up the pipeline before the channel is registered. The host name is looked
     * up for every connection, so a backend that moves to another address is followed (the JDK
     * caches the answer for a while).
     *
     * <p>This is what a {@code Bootstrap} does, without the option maps, reflection and resolver
     * promise a new bootstrap per connection costs.
     */
    ChannelFuture connectToBackend(EventLoop loop, Config.HostPort backend, long connectTimeoutMillis,
                                   Consumer<ChannelPipeline> init) {
        Channel channel = (backend.isSocketDirectory() ? domainSocketChannel : socketChannel).newChannel();
        channel.config().setConnectTimeoutMillis((int) Math.min(connectTimeoutMillis, Integer.MAX_VALUE));
        init.accept(channel.pipeline());
        ChannelPromise connected = channel.newPromise();
        loop.register(channel).addListener(registered -> {
            if (!registered.isSuccess()) {
                channel.unsafe().closeForcibly();
                connected.setFailure(registered.cause());
                return;
            }
            SocketAddress address;
            try {
                address = address(backend);
            } catch (UnknownHostException e) {
                channel.close();
                connected.setFailure(e);
                return;
            }
            channel.connect(address, connected);
        });
        return connected;
    }

    private static SocketAddress address(Config.HostPort backend) throws UnknownHostException {
        return backend.isSocketDirectory()
                ? new DomainSocketAddress(backend.socketPath())
                : new InetSocketAddress(InetAddress.getByName(backend.host()), backend.port());
    }
}
