package io.prefork.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.prefork.worker.InheritedListener;
import io.prefork.worker.Prefork;
import io.prefork.worker.WarmUp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Netty's epoll transport on the listeners prefork hands over.
 * <pre>{@code
 * EventLoopGroup group = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
 * ServerBootstrap bootstrap = new ServerBootstrap().group(group).childHandler(...);
 * PreforkNetty.warmUpOnLoopback(bootstrap);                // --warmup-requests: the same pipeline, warmed
 * Channel server = bootstrap
 *         .channelFactory(() -> PreforkNetty.serverChannel(Prefork.listeners().get(0)))
 *         .register().sync().channel();                    // bound already: register, not bind
 * PreforkNetty.drainOnStop(server, group);
 * Prefork.ready();
 * }</pre>
 */
public final class PreforkNetty {
    private PreforkNetty() {
    }

    /**
     * The listener as a Netty epoll server channel. The fd arrives in blocking mode, and
     * EpollServerSocketChannel keeps the mode it finds: an event loop would then sit in a blocking
     * accept() whenever another worker took the connection first, and never run a close. So it is made
     * non-blocking first (a flag every holder of the socket shares; prefork's Java workers cope with it).
     */
    public static EpollServerSocketChannel serverChannel(InheritedListener listener) {
        try {
            listener.channel().configureBlocking(false);
        } catch (IOException e) {
            throw new IllegalStateException("cannot make " + listener + " non-blocking: " + e.getMessage(), e);
        }
        return new EpollServerSocketChannel(listener.fd());
    }

    /**
     * The app's warm-up for {@code --warmup-requests}: a copy of {@code bootstrap} (its groups, its child
     * handlers) bound on 127.0.0.1, on an ephemeral port, at the first warm-up request, the requests sent
     * there over loopback ({@link WarmUp#overLoopback}), and that channel closed once they are answered.
     * The epoll transport, the codecs and the handlers are then compiled before a client comes, and a
     * spare parks warm. Call it before {@code Prefork.listeners()}, where the warm-up runs; without
     * {@code --warmup-requests} nothing is bound.
     */
    public static void warmUpOnLoopback(ServerBootstrap bootstrap) {
        ServerBootstrap copy = bootstrap.clone().channel(EpollServerSocketChannel.class);
        Prefork.onWarmUp(WarmUp.onLoopbackServer(new WarmUp.LoopbackServer() {
            private Channel channel;

            @Override
            public int open() throws InterruptedException {
                channel = copy.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
                return ((InetSocketAddress) channel.localAddress()).getPort();
            }

            @Override
            public void close() throws InterruptedException {
                channel.close().sync();
            }
        }));
    }

    /**
     * On a graceful stop: close the server channel (stop accepting; queued connections go to the
     * other workers), wait until the accepted connections are closed (the handlers answer with
     * {@code Connection: close} while {@link Prefork#isDraining()}), then shut the groups down. Each
     * step is bounded by the stop's deadline, so a stop cannot hang.
     */
    public static void drainOnStop(Channel server, EventLoopGroup... groups) {
        Prefork.onStop(timeLeft -> {
            long deadline = System.nanoTime() + timeLeft.minusMillis(250).toNanos();
            server.close().await(left(deadline), TimeUnit.NANOSECONDS);
            Prefork.awaitConnectionsClosed(Duration.ofNanos(left(deadline)));
            for (EventLoopGroup group : groups) {
                group.shutdownGracefully(0, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left(deadline))), TimeUnit.MILLISECONDS)
                        .await(left(deadline), TimeUnit.NANOSECONDS);
            }
        });
    }

    private static long left(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }
}
