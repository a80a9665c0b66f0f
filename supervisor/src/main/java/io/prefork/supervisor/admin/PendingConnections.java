package io.prefork.supervisor.admin;

import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.net.Acceptor;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;

/**
 * Admin connections that have not yet sent their request. Each gets a deadline, and at most
 * {@code max} wait at once: a new one pushes out the oldest. So a client that connects and says
 * nothing, or a thousand of them, cannot keep out the next `prefork ctl status`, which sends its
 * line at once. Closing a channel wakes the thread blocked reading it.
 */
public final class PendingConnections implements AutoCloseable {
    private final int max;
    private final Duration deadline;
    private final Map<SocketChannel, ScheduledFuture<?>> waiting = new LinkedHashMap<>();
    private final ScheduledExecutorService timer;

    PendingConnections(int max, Duration deadline, String name) {
        this.max = max;
        this.deadline = deadline;
        this.timer = Executors.newSingleThreadScheduledExecutor(Daemons.named(name));
    }

    /**
     * The admin servers' accept loop: each connection is served on a daemon thread of its own, with
     * this deadline on its request, until another thread shuts {@code server} down (Fds.shutdown);
     * then it closes {@code server} (it owns it) and rethrows what ended the wait.
     */
    void acceptEach(UnixServerSocketChannel server, Acceptor acceptor, String threadName, Consumer<UnixSocketChannel> serve)
            throws IOException {
        try (server) {
            while (true) {
                UnixSocketChannel client = acceptor.accept(server);
                add(client);
                Daemons.start(threadName, () -> serve.accept(client));
            }
        }
    }

    /** A new connection: it has {@code deadline} to send its request; the oldest goes if there are too many. */
    void add(SocketChannel channel) {
        SocketChannel evicted = null;
        synchronized (waiting) {
            waiting.put(channel, timer.schedule(() -> expire(channel), deadline.toMillis(), TimeUnit.MILLISECONDS));
            if (waiting.size() > max) {
                evicted = waiting.keySet().iterator().next();
                waiting.remove(evicted).cancel(false);
            }
        }
        if (evicted != null) {
            hangUp(evicted);
        }
    }

    /** The request arrived (or the connection ended): no more deadline, no eviction. */
    void done(SocketChannel channel) {
        synchronized (waiting) {
            ScheduledFuture<?> timeout = waiting.remove(channel);
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
    }

    private void expire(SocketChannel channel) {
        boolean stillWaiting;
        synchronized (waiting) {
            stillWaiting = waiting.remove(channel) != null;
        }
        if (stillWaiting) {
            hangUp(channel);
        }
    }

    /**
     * Ends the connection without closing the fd: the thread serving it owns the fd, sees end of
     * stream, and closes it. (Closing it from here could hand the thread a reused fd number:
     * jnr-unixsocket's channels, unlike the JDK's, do not hold the close back while a read is in
     * progress.)
     */
    static void hangUp(SocketChannel channel) {
        try {
            channel.shutdownInput();
            channel.shutdownOutput();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        synchronized (waiting) {
            waiting.keySet().forEach(PendingConnections::hangUp);
            waiting.clear();
        }
    }
}
