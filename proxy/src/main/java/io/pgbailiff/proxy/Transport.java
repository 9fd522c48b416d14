package io.pgbailiff.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
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
 * Native epoll where the platform has it, NIO elsewhere. Only epoll reaches a backend over a
 * Unix-domain socket.
 *
 * @param domainSocketChannel the channel for Unix-domain sockets; null where the transport has none
 */
record Transport(String name, Class<? extends ServerSocketChannel> serverChannel,
                 Class<? extends SocketChannel> socketChannel,
                 Class<? extends Channel> domainSocketChannel) {

    static Transport best() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollServerSocketChannel.class, EpollSocketChannel.class,
                    EpollDomainSocketChannel.class);
        }
        return new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class, null);
    }

    EventLoopGroup newGroup(int threads) {
        return "epoll".equals(name) ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    }

    /** Refuses, before anything listens, a backend this transport cannot reach. */
    void checkReaches(Config.HostPort backend) {
        if (backend.isSocketDirectory() && domainSocketChannel == null) {
            throw new ConfigLoader.InvalidSettingException("--backend " + backend
                    + ": a Unix-domain socket needs the native epoll transport, which is not available here ("
                    + Epoll.unavailabilityCause() + ")");
        }
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
