package io.pgbailiff.proxy;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgbailiff.protocol.PgEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the backend a CancelRequest on a fresh connection, as the protocol requires.
 * The returned future completes when the backend has closed that connection, which PostgreSQL
 * does only after it has signalled the target backend process.
 */
final class BackendCanceller {
    private static final Logger log = LoggerFactory.getLogger(BackendCanceller.class);

    private final Transport transport;
    private final Config config;

    BackendCanceller(Transport transport, Config config) {
        this.transport = transport;
        this.config = config;
    }

    Future<Void> cancel(EventLoop loop, CancelKeys.BackendKey key) {
        Promise<Void> done = loop.newPromise();
        ChannelFuture connect = transport.connectToBackend(loop, config.backend(), config.connectTimeout().toMillis(),
                pipeline -> { });
        connect.addListener((ChannelFutureListener) f -> send(f, key, loop, done));
        return done;
    }

    private void send(ChannelFuture f, CancelKeys.BackendKey key, EventLoop loop, Promise<Void> done) {
        if (!f.isSuccess()) {
            log.warn("could not send cancel request for backend pid {} to {}: {}", key.processId(),
                    config.backend().describe(), f.cause().toString());
            done.trySuccess(null);
            return;
        }
        var deadline = loop.schedule(() -> f.channel().close(), config.connectTimeout().toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        f.channel().closeFuture().addListener(c -> {
            deadline.cancel(false);
            done.trySuccess(null);
        });
        f.channel().writeAndFlush(PgEncoder.cancelRequest(f.channel().alloc(), key.processId(), key.secret()));
    }
}
