package io.prefork.examples;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.prefork.netty.PreforkNetty;
import io.prefork.worker.Prefork;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A Netty 4.2 HTTP server on the epoll transport, as a prefork worker (the README's Netty recipe):
 * {@code GET /} answers {@code Hello from Netty}, {@code GET /sleep?ms=N} after N ms. While draining,
 * every answer says {@code Connection: close}. Run alone it binds 127.0.0.1:8080.
 */
public final class NettyApp {
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private NettyApp() {
    }

    public static void main(String[] args) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Hello());
            }
        });
        Channel server;
        if (Prefork.isSupervised()) {
            PreforkNetty.warmUpOnLoopback(bootstrap);  // --warmup-requests run through this pipeline first
            server = bootstrap.channelFactory(() -> PreforkNetty.serverChannel(Prefork.listeners().get(0)))
                    .register().sync().channel(); // already bound and listening: register, not bind
            PreforkNetty.drainOnStop(server, group);
            Prefork.ready();
        } else {
            server = bootstrap.channel(EpollServerSocketChannel.class).bind(new InetSocketAddress("127.0.0.1", 8080)).sync().channel();
        }
        server.closeFuture().sync();
    }

    /** One answer per request; the slow one waits on the event loop's timer, not on its thread. */
    static final class Hello extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            boolean keepAlive = HttpUtil.isKeepAlive(request) && !Prefork.isDraining();
            if (uri.path().equals("/sleep")) {
                long ms = Long.parseLong(uri.parameters().getOrDefault("ms", java.util.List.of("0")).get(0));
                ctx.executor().schedule(() -> answer(ctx, "slept " + ms + " ms\n", keepAlive && !Prefork.isDraining()),
                        ms, TimeUnit.MILLISECONDS);
            } else {
                answer(ctx, "Hello from Netty\n", keepAlive);
            }
        }

        private static void answer(ChannelHandlerContext ctx, String body, boolean keepAlive) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .set("X-Worker-Pid", PID)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                    .set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
            Prefork.requestDone();
            var written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
