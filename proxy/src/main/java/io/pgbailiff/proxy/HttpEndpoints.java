package io.pgbailiff.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The operator's HTTP port: {@code GET /metrics} (Prometheus text format), {@code /health}
 * (200 while the process serves) and {@code /ready} (200 when the backend accepts a connection,
 * 503 otherwise or once a shutdown has begun, for load balancers and orchestrators).
 */
final class HttpEndpoints implements AutoCloseable {
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Channel channel;

    private HttpEndpoints(Channel channel) {
        this.channel = channel;
    }

    static HttpEndpoints start(Config config, ProxyMetrics metrics, ClientConnections connections, Transport transport,
                               EventLoopGroup group) throws InterruptedException {
        ServerBootstrap acceptor = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192),
                                new Handler(config, metrics, connections, transport));
                    }
                });
        return new HttpEndpoints(ProxyServer.listen(acceptor, config.http(), "--http"));
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Config config;
        private final ProxyMetrics metrics;
        private final ClientConnections connections;
        private final Transport transport;

        Handler(Config config, ProxyMetrics metrics, ClientConnections connections, Transport transport) {
            this.config = config;
            this.metrics = metrics;
            this.connections = connections;
            this.transport = transport;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            // HttpServerCodec sends a HEAD request's response without its body
            if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
                FullHttpResponse notAllowed = response(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n",
                        "text/plain; charset=utf-8");
                notAllowed.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                send(ctx, keepAlive, notAllowed);
                return;
            }
            switch (new QueryStringDecoder(request.uri()).path()) {
                case "/metrics" -> respond(ctx, keepAlive, HttpResponseStatus.OK, metrics.scrape(), PROMETHEUS_TEXT);
                case "/health" -> respond(ctx, keepAlive, HttpResponseStatus.OK, "ok\n", "text/plain; charset=utf-8");
                case "/ready" -> {
                    if (connections.draining()) {
                        respond(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down\n",
                                "text/plain; charset=utf-8");
                        return;
                    }
                    backendReachable(ctx).thenAccept(reachable -> respond(ctx, keepAlive,
                            reachable ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            reachable ? "ready\n" : "backend " + config.backend().describe() + " unreachable\n",
                            "text/plain; charset=utf-8"));
                }
                default -> respond(ctx, keepAlive, HttpResponseStatus.NOT_FOUND,
                        "not found; try /metrics, /health or /ready\n", "text/plain; charset=utf-8");
            }
        }

        private CompletableFuture<Boolean> backendReachable(ChannelHandlerContext ctx) {
            CompletableFuture<Boolean> reachable = new CompletableFuture<>();
            transport.connectToBackend(ctx.channel().eventLoop(), config.backend(),
                            Math.min(config.connectTimeout().toMillis(), 2000), pipeline -> { })
                    .addListener((ChannelFutureListener) f -> {
                        reachable.complete(f.isSuccess());
                        f.channel().close();
                    });
            return reachable;
        }

        private static void respond(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body,
                                    String contentType) {
            send(ctx, keepAlive, response(ctx, status, body, contentType));
        }

        private static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status, String body, String contentType) {
            ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            HttpUtil.setContentLength(response, content.readableBytes());
            return response;
        }

        private static void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
            HttpUtil.setKeepAlive(response, keepAlive);
            var write = ctx.writeAndFlush(response);
            if (!keepAlive) {
                write.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
