package io.pgbailiff.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

import java.util.function.Consumer;

/**
 * Asks the backend for TLS before the StartupMessage, as libpq does, then removes itself,
 * reporting whether the connection is now encrypted.
 *
 * <pre>
 *  SSLRequest ──▶ backend
 *     'S' ──▶ TLS handshake (certificate checked as the mode says) ──▶ ready
 *     'N' ──▶ prefer: ready, unencrypted; require and stricter: failed
 * </pre>
 */
final class BackendTlsNegotiator extends ChannelInboundHandlerAdapter {
    private final TlsContexts tls;
    private final Config.HostPort backend;
    private final Consumer<Boolean> ready;
    private final Consumer<String> failed;

    BackendTlsNegotiator(TlsContexts tls, Config.HostPort backend, Consumer<Boolean> ready, Consumer<String> failed) {
        this.tls = tls;
        this.backend = backend;
        this.ready = ready;
        this.failed = failed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            if (in.readableBytes() != 1) {
                failed.accept("invalid response to SSL negotiation from the backend");
                return;
            }
            byte answer = in.readByte();
            if (answer == 'S') {
                SslHandler handler = tls.backendHandler(ctx.alloc(), backend.host(), backend.port());
                ctx.pipeline().replace(this, "tls", handler);
                handler.handshakeFuture().addListener(f -> {
                    if (f.isSuccess()) {
                        ready.accept(true);
                    } else {
                        failed.accept("TLS handshake with the backend failed: " + Errors.rootMessage(f.cause()));
                    }
                });
            } else if (answer == 'N' && tls.backendMode() == Config.BackendTls.PREFER) {
                ctx.pipeline().remove(this);
                ready.accept(false);
            } else if (answer == 'N') {
                failed.accept("the backend does not support SSL, but --backend-tls is " + tls.backendMode().setting());
            } else {
                failed.accept("invalid response to SSL negotiation from the backend: " + (char) answer);
            }
        } finally {
            ReferenceCountUtil.release(in);
        }
    }
}
