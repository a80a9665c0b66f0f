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
}
