package io.pgbailiff.proxy;

import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.Test;

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
}
