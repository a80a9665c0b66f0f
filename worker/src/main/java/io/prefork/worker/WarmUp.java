package io.prefork.worker;

/** The app's way to serve one request with no socket, for {@link Prefork#onWarmUp}. */
@FunctionalInterface
public interface WarmUp {
    /** Runs a GET of {@code path} through the app's whole stack; the answer is thrown away. */
    void request(String path) throws Exception;
}
