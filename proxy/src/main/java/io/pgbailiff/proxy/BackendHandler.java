package io.pgbailiff.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** The backend side of a session: hands everything to the session's {@link FrontendHandler}. */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    private final FrontendHandler frontend;

    BackendHandler(FrontendHandler frontend) {
        this.frontend = frontend;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        frontend.fromBackend(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        frontend.backendReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        frontend.backendWritabilityChanged(ctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        frontend.backendInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        frontend.backendException(cause);
    }
}
