package io.prefork.worker;

import java.time.Duration;

/**
 * What an app does when the supervisor asks its worker to stop: stop accepting, finish in-flight
 * requests, release resources. When it returns, the worker exits 0.
 */
@FunctionalInterface
public interface StopHandler {
    /**
     * @param timeLeft how long until the worker is killed; finish well within it
     */
    void stop(Duration timeLeft) throws Exception;
}
