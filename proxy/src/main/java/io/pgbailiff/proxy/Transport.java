package io.pgbailiff.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
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

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Native epoll where the platform has it, NIO elsewhere. Only epoll has Unix-domain sockets, to
 * reach a backend or to accept clients on.
 *
 * @param domainSocketChannel       the channel for Unix-domain sockets; null where the transport has none
 * @param serverDomainSocketChannel the channel listening on a Unix-domain socket; null where the transport has none
 */
record Transport(String name, Class<? extends ServerSocketChannel> serverChannel,
                 Class<? extends SocketChannel> socketChannel,
                 Class<? extends Channel> domainSocketChannel,
                 Class<? extends ServerChannel> serverDomainSocketChannel) {

    static Transport best() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollServerSocketChannel.class, EpollSocketChannel.class,
                    EpollDomainSocketChannel.class, EpollServerDomainSocketChannel.class);
        }
        return new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class, null, null);
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
     * A bootstrap for one connection to the backend on {@code loop}: TCP, or the socket
     * {@code .s.PGSQL.PORT} in the directory when the host is one, as libpq reads a host that starts
     * with a slash. The caller adds the handler and connects.
     */
    Bootstrap toBackend(EventLoop loop, Config.HostPort backend, long connectTimeoutMillis) {
        return new Bootstrap()
                .group(loop)
                .channel(backend.isSocketDirectory() ? domainSocketChannel : socketChannel)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(connectTimeoutMillis, Integer.MAX_VALUE))
                .remoteAddress(address(backend));
    }

    private static SocketAddress address(Config.HostPort backend) {
        return backend.isSocketDirectory()
                ? new DomainSocketAddress(backend.socketPath())
                : InetSocketAddress.createUnresolved(backend.host(), backend.port());
    }
}
