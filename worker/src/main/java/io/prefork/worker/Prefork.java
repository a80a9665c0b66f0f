package io.prefork.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * What an app running as a prefork worker can ask of prefork. Every method is safe to call when the
 * app runs on its own (not under the supervisor): it then has no listeners and ready/onStop do nothing,
 * so one build of an app runs both ways.
 */
public final class Prefork {
    private static volatile WorkerRuntime runtime;
    /**
     * Set while the worker connects to the supervisor beside the app's main (see {@link Launcher}):
     * what needs the connection waits for it, and what the app registers meanwhile is kept for it.
     */
    private static volatile CountDownLatch connecting;
    private static final Object PENDING = new Object();
    private static final List<StopHandler> pendingStopHandlers = new ArrayList<>();
    private static WarmUp pendingWarmUp;

    private Prefork() {
    }

    /** The launcher connects beside the app's main: until {@link #install} the app's calls wait or are kept. */
    static void connectingBesideTheApp() {
        connecting = new CountDownLatch(1);
    }

    static void install(WorkerRuntime r) {
        synchronized (PENDING) {
            if (pendingWarmUp != null) {
                r.warmUp().setHook(pendingWarmUp);
            }
            pendingStopHandlers.forEach(r::addStopHandler);
            pendingStopHandlers.clear();
            pendingWarmUp = null;
            runtime = r;
        }
        CountDownLatch c = connecting;
        if (c != null) {
            c.countDown();
        }
    }

    /**
     * The runtime; while the worker still connects, waits for it. Null when not supervised (or
     * interrupted while waiting). A failed connection exits the JVM, so the wait always ends.
     */
    static WorkerRuntime awaitRuntime() {
        WorkerRuntime r = runtime;
        CountDownLatch c = connecting;
        if (r != null || c == null) {
            return r;
        }
        try {
            c.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return runtime;
    }

    /** True when this JVM was started by the prefork supervisor. */
    public static boolean isSupervised() {
        return runtime != null || connecting != null;
    }

    /** This worker's slot number (1..N), or 0 when not supervised. */
    public static int workerId() {
        WorkerRuntime r = awaitRuntime();
        return r == null ? 0 : r.id();
    }

    /** For {@link ParkingSelectorProvider}: a spare waits here for its listeners, and nothing else happens. */
    static void awaitInheritedChannel() {
        WorkerRuntime r = awaitRuntime();
        if (r != null) {
            r.awaitInheritedChannel();
        }
    }

    /**
     * The listeners handed over by the supervisor, in {@code -b} order; empty when not supervised.
     * In a hot spare ({@code --spares}) this blocks until the spare is promoted: boot everything
     * you can before calling it, and a promotion then costs only what comes after. It also waits
     * while the worker still connects to the supervisor (the app's main starts beside that).
     */
    public static List<InheritedListener> listeners() {
        WorkerRuntime r = awaitRuntime();
        return r == null ? List.of() : r.listeners();
    }

    /**
     * Tells the supervisor this worker serves. Only READY workers count, and a rolling restart
     * retires an old worker only once its replacement is READY. Idempotent. With the default
     * {@code --ready auto}, the worker also becomes READY by itself once the app accepts.
     */
    public static void ready() {
        WorkerRuntime r = awaitRuntime();
        if (r != null) {
            r.markReady("the app said so");
        }
    }

    /**
     * Counts one finished request, for {@code ctl status} and for {@code --max-requests} recycling:
     * at its limit the worker asks the supervisor for a replacement and keeps serving until that
     * one is READY. Call it once per request, after the response.
     */
    public static void requestDone() {
        WorkerRuntime r = runtime;
        if (r != null) {
            r.requestDone();
        }
    }

    /**
     * True once this worker was asked to stop and no longer accepts: prefork takes its listeners away
     * first thing in a stop, before the stop handlers run. A server with keep-alive connections should
     * answer every further request with {@code Connection: close}: the client then reconnects to
     * another worker. Closing an idle keep-alive connection instead races the client's next request,
     * and loses it (nginx's reload loses one request per open keep-alive connection that way).
     */
    public static boolean isDraining() {
        WorkerRuntime r = runtime;
        return r != null && r.isDraining();
    }

    /**
     * Takes this worker's listeners away from the app without closing the shared socket: the app's
     * acceptor threads and selectors stop taking connections, and those still queued go to the other
     * workers. For servers that cannot stop accepting on their own without losing a connection
     * (Tomcat's paused acceptor destroys the one it takes next). Every stop does this before it runs
     * the stop handlers; a handler may still call it (then it returns at once). Idempotent; does
     * nothing when not supervised.
     */
    public static void stopAccepting() throws java.io.IOException {
        WorkerRuntime r = awaitRuntime();
        if (r != null) {
            r.stopAccepting();
        }
    }

    /**
     * Waits until this worker holds no connection accepted on its listeners, or {@code timeLeft}
     * runs out; the drain of a stop handler. Returns true when none is left, false at the deadline.
     * Returns true at once when not supervised. When the supervisor stops after its
     * {@code --lame-duck} period, a balancer has taken the server out and sends nothing more on a
     * kept-alive connection: each is then ended (shutdown) as soon as it is idle, instead of waited
     * for, so a connection the balancer keeps open does not hold the drain to its deadline.
     *
     * <p>The kernel is asked, not the app's server: every socket in {@code /proc/self/fd} whose local
     * address in {@code /proc/net/tcp}, {@code tcp6} or {@code unix} is a listener's. So a
     * connection counts from the moment accept() returns, even before the server has registered it
     * with a selector (the gap in which a "no connections for 100 ms" drain loses requests on a busy
     * machine). The app's own outbound connections (a database pool, a client to another service)
     * have other local addresses and never hold the drain up.
     *
     * <p>Call it after the server has stopped accepting: a connection accepted after it returned
     * is not waited for. Connections still in the listen queue are not this worker's; the other
     * workers or the next one take them.
     */
    public static boolean awaitConnectionsClosed(Duration timeLeft) throws InterruptedException {
        WorkerRuntime r = awaitRuntime();
        return r == null || r.awaitConnectionsClosed(timeLeft);
    }

    /**
     * Registers the app's warm-up: how to run one request through its whole stack without a socket
     * (for Jetty, a {@code LocalConnector}). With {@code --warmup-requests N}, prefork runs N of them
     * the first time the app calls {@link #listeners()}, before the worker can take a real connection
     * (a spare, before it parks): the first client then meets a JVM that has compiled and loaded what a
     * request needs. The hook is called from several threads at once, as clients come, and its
     * {@link WarmUp#finished()} after the last request; {@link WarmUp#overLoopback} is a client for an
     * app that warms up on a loopback connector of its own. Register it before calling
     * {@code listeners()}. Does nothing when not supervised.
     */
    public static void onWarmUp(WarmUp warmUp) {
        synchronized (PENDING) {
            WorkerRuntime r = runtime;
            if (r != null) {
                r.warmUp().setHook(warmUp);
            } else if (connecting != null) {
                pendingWarmUp = warmUp;
            }
        }
    }

    /**
     * Registers what to do on a graceful stop. Handlers run in order on a prefork thread; when the
     * last returns, the worker exits 0. Without any handler, prefork drains for the app: it takes
     * the listeners away from the app (without closing the shared socket), waits within the
     * deadline until every accepted connection waits for its client, then calls System.exit(0), so
     * the app's shutdown hooks run. A keep-alive client that sends its next request just then loses
     * it; only an app that answers {@code Connection: close} while draining avoids that.
     */
    public static void onStop(StopHandler handler) {
        synchronized (PENDING) {
            WorkerRuntime r = runtime;
            if (r != null) {
                r.addStopHandler(handler);
            } else if (connecting != null) {
                pendingStopHandlers.add(handler);
            }
        }
    }
}
