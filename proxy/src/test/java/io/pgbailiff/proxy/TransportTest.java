package io.pgbailiff.proxy;

import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransportTest {

    /** {@link ProxyServer} relies on this default instead of setting the option on every connection. */
    @Test
    void everySocketChannelStartsWithNagleOff() throws Exception {
        SocketChannel channel = Transport.best().socketChannel().getDeclaredConstructor().newInstance();
        try {
            assertTrue(channel.config().getOption(ChannelOption.TCP_NODELAY));
        } finally {
            channel.unsafe().closeForcibly();
        }
    }

    @Test
    void aSocketDirectoryNeedsATransportWithUnixDomainSockets() {
        Config.HostPort directory = new Config.HostPort("/var/run/postgresql", 5432);
        Transport nio = new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class, null);
        var e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> nio.checkReaches(directory));
        assertTrue(e.getMessage().contains("Unix-domain socket"), e.getMessage());
        nio.checkReaches(new Config.HostPort("db", 5432));
        if (Epoll.isAvailable()) {
            Transport.best().checkReaches(directory);
        }
    }
}
