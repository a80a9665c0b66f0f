package io.prefork.worker;

import java.util.function.IntSupplier;

/**
 * The app's way to serve one request through its whole stack, for {@link Prefork#onWarmUp}. Prefork
 * calls it from several threads at once, as real clients would arrive.
 */
@FunctionalInterface
public interface WarmUp {
    /** Runs a GET of {@code path} through the app's whole stack; the answer is thrown away. */
    void request(String path) throws Exception;

    /** Called once after the last warm-up request: close what the warm-up opened. */
    default void finished() throws Exception {
    }

    /**
     * A warm-up over loopback to {@code 127.0.0.1:port} (the port asked for on the first request):
     * HTTP/1.1 GETs on keep-alive connections, one per calling thread, closed by {@link #finished()}.
     * For an app that opens a private connector of its own for the warm-up, so that the socket path is
     * warm too, and warm the way real clients use it.
     */
    static WarmUp overLoopback(IntSupplier port) {
        return new LoopbackClient(port);
    }

    /**
     * A warm-up over loopback ({@link #overLoopback}) to a server of the app's own, bound for the
     * warm-up only: opened at the first request, closed after the last one, so a spare parks with
     * nothing of it left open. For a connector or server channel with the app's real handlers.
     */
    static WarmUp onLoopbackServer(LoopbackServer server) {
        return new LoopbackServerWarmUp(server);
    }

    /** A server of the app's own for {@link #onLoopbackServer}: on 127.0.0.1, on a port of its choosing. */
    interface LoopbackServer {
        /** Binds it (on 127.0.0.1, port 0) and returns its port; called once, at the first warm-up request. */
        int open() throws Exception;

        /** Closes it; called once, after the last warm-up request, if it was opened. */
        void close() throws Exception;
    }
}
