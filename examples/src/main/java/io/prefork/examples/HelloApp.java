package io.prefork.examples;

import io.prefork.worker.InheritedListener;
import io.prefork.worker.Prefork;
import io.prefork.worker.WarmUp;
import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The demo worker: Jetty 12 on the listeners prefork hands over.
 * Run on its own ({@code HelloApp [host] [port]}) it binds 127.0.0.1:8080 itself, for comparisons.
 *
 * <ul>
 *   <li>{@code GET /} answers {@code Hello, world!}</li>
 *   <li>{@code GET /sleep?ms=N} answers after N ms</li>
 *   <li>{@code GET /cpu?n=N} runs N rounds of SHA-256</li>
 *   <li>{@code GET /parts?ms=N} answers in two parts N ms apart: a response still being written when a stop comes</li>
 *   <li>{@code GET /crash} ends the JVM at once</li>
 * </ul>
 * Every response carries {@code X-Worker-Pid}. A {@code prefork-hello.txt} on the classpath replaces
 * the greeting: a different build of the same app, for hot-deploy demos.
 */
public final class HelloApp {
    static final String PID = Long.toString(ProcessHandle.current().pid());
    static final String GREETING = greeting();

    private HelloApp() {
    }

    public static void main(String[] args) throws Exception {
        skipJettysMBeanServer();
        Server server = new Server(new QueuedThreadPool(200, 8));
        // GracefulHandler makes Server.stop() wait for requests in flight instead of cutting them.
        server.setHandler(new GracefulHandler(new HelloHandler()));
        if (Prefork.isSupervised()) {
            Prefork.onStop(timeLeft -> drain(server, timeLeft));
            // --warmup-requests: real requests over loopback, to a private connector of its own on an
            // ephemeral port, so the socket path (acceptor, selector, endpoint) is warm too, not only
            // the handler. No client can reach it; it closes when the warm-up is over.
            Prefork.onWarmUp(WarmUp.onLoopbackServer(new WarmUpConnector(server)));
            // Everything but the connectors starts first: a hot spare (--spares) gets this far before
            // it has sockets, and a promotion then costs only the connectors below.
            server.start();
            List<InheritedListener> listeners = Prefork.listeners();  // a spare warms up, then waits here
            for (InheritedListener listener : listeners) {
                AbstractConnector connector = connectorFor(server, listener);
                server.addConnector(connector);
                server.manage(connector); // added to a running server, Jetty would leave it unmanaged
                connector.start();
            }
        } else {
            ServerConnector connector = new ServerConnector(server);
            connector.setHost(args.length > 0 ? args[0] : "127.0.0.1");
            connector.setPort(args.length > 1 ? Integer.parseInt(args[1]) : 8080);
            server.addConnector(connector);
            server.setStopTimeout(30_000);
            server.setStopAtShutdown(true);
            server.start();
        }
        Prefork.ready();
        server.join();
    }

    /**
     * Jetty 12 pads its concurrent pools to the number of references that fit a cache line, and unless
     * {@code org.eclipse.jetty.util.referencesPerCacheLine} says, it asks the JVM whether references
     * are compressed through the platform MBean server, which it starts for that one question: about
     * 460 more classes and 90-115 ms more to the first answer of a plain JVM of this app (README, "Making
     * your app a worker"). Compressed references (4 bytes) are the most that fit, so Jetty never pads
     * less than it would have chosen.
     */
    static void skipJettysMBeanServer() {
        String key = "org.eclipse.jetty.util.referencesPerCacheLine";
        if (System.getProperty(key) == null) {
            int cacheLineBytes = Integer.getInteger("org.eclipse.jetty.util.cacheLineBytes", 64);
            System.setProperty(key, Integer.toString(cacheLineBytes / 4));
        }
    }

    /**
     * A loopback connector on an ephemeral port, for {@link WarmUp#onLoopbackServer}: opened at the
     * first warm-up request, closed as soon as the warm-up is over, so a spare parks with nothing of it
     * left; prefork's loopback client sends the requests (keep-alive connections, several at once).
     */
    private static final class WarmUpConnector implements WarmUp.LoopbackServer {
        private final Server server;
        private ServerConnector connector;

        WarmUpConnector(Server server) {
            this.server = server;
        }

        @Override
        public int open() throws Exception {
            connector = new ServerConnector(server);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            connector.start();
            return connector.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            connector.stop();
            server.removeConnector(connector);
        }
    }

    /** Listener 0 is the JVM's inherited channel; Jetty's connectors pick it up with setInheritChannel. */
    private static AbstractConnector connectorFor(Server server, InheritedListener listener) throws IOException {
        return listener.isUnix() ? unixConnector(server, listener) : tcpConnector(server, listener);
    }

    private static AbstractConnector unixConnector(Server server, InheritedListener listener) {
        if (listener.index() != 0) {
            // UnixDomainServerConnector can only take System.inheritedChannel(), i.e. listener 0.
            throw new IllegalStateException("Jetty serves a unix socket only as the first bind; move "
                    + listener.address() + " to the first -b");
        }
        UnixDomainServerConnector unix = new UnixDomainServerConnector(server);
        unix.setInheritChannel(true);
        // Jetty deletes this path when the connector stops. The real socket file belongs to the
        // supervisor and must outlive this worker, so Jetty gets a path that never exists.
        unix.setUnixDomainPath(Path.of("/nonexistent/prefork-inherited-socket"));
        return unix;
    }

    private static AbstractConnector tcpConnector(Server server, InheritedListener listener) throws IOException {
        ServerConnector tcp = REGISTER_DELAY_MS > 0 ? slowToRegister(server) : new ServerConnector(server);
        if (listener.index() == 0) {
            tcp.setInheritChannel(true);
        } else {
            tcp.open(listener.channel());
        }
        return tcp;
    }

    /**
     * A test hook ({@code -Dhello.registerDelayMs=N}): the selector holds each connection an
     * acceptor handed it for N ms before it makes an endpoint of it, as a starved selector thread on
     * a saturated machine does. Jetty does not count such a connection yet; the kernel does.
     */
    private static final long REGISTER_DELAY_MS = Long.getLong("hello.registerDelayMs", 0);

    private static ServerConnector slowToRegister(Server server) {
        return new ServerConnector(server) {
            @Override
            protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler, int selectors) {
                return new ServerConnectorManager(executor, scheduler, selectors) {
                    @Override
                    protected SocketChannelEndPoint newEndPoint(SelectableChannel channel, ManagedSelector selector,
                            SelectionKey key) throws IOException {
                        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REGISTER_DELAY_MS);
                        for (long left; (left = until - System.nanoTime()) > 0; ) {
                            try {
                                TimeUnit.NANOSECONDS.sleep(left);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                break;
                            }
                        }
                        return super.newEndPoint(channel, selector, key);
                    }
                };
            }
        };
    }

    /**
     * The drain that loses nothing with keep-alive clients: prefork has taken the listeners away before
     * this runs (queued connections go to the other workers); answer every further request with
     * Connection: close (see the handler), wait
     * until the clients have closed their connections, then stop Jetty; its graceful stop still waits
     * for requests in flight if the deadline comes first.
     *
     * <p>Not Jetty's connector.shutdown() to stop accepting: from then on Jetty closes each connection
     * after its current response, even one whose head already went out keep-alive, and the client's
     * next request meets the close. prefork's withdrawal of the listeners leaves Jetty's connections as
     * they are until their clients close them.
     */
    private static void drain(Server server, Duration timeLeft) throws Exception {
        long deadline = System.nanoTime() + timeLeft.toNanos() - TimeUnit.MILLISECONDS.toNanos(250);
        // The kernel's count, not Jetty's: Jetty misses a connection an acceptor has taken but not yet
        // registered on a selector.
        Prefork.awaitConnectionsClosed(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        server.setStopTimeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        server.stop();
    }

    static final class HelloHandler extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            response.getHeaders().put("X-Worker-Pid", PID);
            if (Prefork.isDraining()) {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
            Callback counted = Callback.from(() -> {
                Prefork.requestDone();
                callback.succeeded();
            }, callback::failed);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            Fields query = Request.extractQueryParameters(request);
            switch (Request.getPathInContext(request)) {
                case "/" -> Content.Sink.write(response, true, GREETING, counted);
                case "/sleep" -> {
                    long ms = number(query, "ms", 0);
                    Thread.sleep(ms);
                    Content.Sink.write(response, true, "slept " + ms + " ms\n", counted);
                }
                case "/cpu" -> {
                    int n = (int) number(query, "n", 1000);
                    Content.Sink.write(response, true, sha256Rounds(n) + "\n", counted);
                }
                case "/parts" -> {
                    long ms = number(query, "ms", 0);
                    Content.Sink.write(response, false, "first part\n", Callback.from(() -> {
                        try {
                            Thread.sleep(ms);
                            Content.Sink.write(response, true, "second part\n", counted);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            counted.failed(e);
                        }
                    }, counted::failed));
                }
                case "/crash" -> Runtime.getRuntime().halt(1);
                default -> {
                    response.setStatus(404);
                    Content.Sink.write(response, true, "not found\n", counted);
                }
            }
            return true;
        }
    }

    private static String greeting() {
        try (var in = HelloApp.class.getResourceAsStream("/prefork-hello.txt")) {
            return in == null ? "Hello, world!\n" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read prefork-hello.txt", e);
        }
    }

    /** A number from the query string, or {@code absent} when it is not there. */
    private static long number(Fields query, String name, long absent) {
        String value = query.getValue(name);
        return value == null ? absent : Long.parseLong(value);
    }

    static String sha256Rounds(int n) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] digest = "prefork".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < n; i++) {
            digest = sha.digest(digest);
        }
        return HexFormat.of().formatHex(digest);
    }
}
