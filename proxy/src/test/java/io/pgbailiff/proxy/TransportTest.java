package io.pgbailiff.proxy;

import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransportTest {

    /** {@link ProxyServer} relies on this default instead of setting the option on every connection. */
    @Test
    void everySocketChannelStartsWithNagleOff() throws Exception {
        SocketChannel channel = Transport.best().socketChannel().newChannel();
        try {
            assertTrue(channel.config().getOption(ChannelOption.TCP_NODELAY));
        } finally {
            channel.unsafe().closeForcibly();
        }
    }

    @Test
    void aSocketDirectoryNeedsATransportWithUnixDomainSockets() {
        Config overSocket = Config.defaults().withBackend(new Config.HostPort("/var/run/postgresql", 5432));
        Config listeningOnSocket = ConfigLoader.load(List.of("--unix-socket-dir", "/tmp"), Map.of());
        Transport nio = new Transport("nio", NioServerSocketChannel.class, NioSocketChannel::new, null, null);
        var e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> nio.checkSupports(overSocket));
        assertTrue(e.getMessage().startsWith("--backend /var/run/postgresql:5432: a Unix-domain socket needs"), e.getMessage());
        e = assertThrows(ConfigLoader.InvalidSettingException.class, () -> nio.checkSupports(listeningOnSocket));
        assertTrue(e.getMessage().startsWith("--unix-socket-dir /tmp: a Unix-domain socket needs"), e.getMessage());
        nio.checkSupports(Config.defaults());
        if (Epoll.isAvailable()) {
            Transport.best().checkSupports(overSocket);
            Transport.best().checkSupports(listeningOnSocket);
        }
    }
}
