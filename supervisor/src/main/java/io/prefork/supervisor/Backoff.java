package io.prefork.supervisor;

import java.time.Duration;

/**
 * Delay before restarting a worker slot after an unplanned exit: none after an isolated failure,
 * then {@code initial}, doubling with each consecutive failure, capped at {@code max}. A worker that
 * served for {@code resetAfter} resets it. Unbounded exponential backoff is not a thing (Einhorn's
 * comment, and ours).
 */
public final class Backoff {
    private final Duration initial;
    private final Duration max;
    private final Duration resetAfter;
    private int failures;

    public Backoff(Duration initial, Duration max, Duration resetAfter) {
        this.initial = initial;
        this.max = max;
        this.resetAfter = resetAfter;
    }

    /**
     * A worker that served 5 s was not a crash loop: restarting it at once costs one JVM start (about
     * half a CPU-second) per 5 s at worst, and waiting would only leave its slot empty.
     */
    public static Backoff standard() {
        return new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofSeconds(5));
    }

    /** The delay before the next start, given how long the worker that just exited was serving. */
    public Duration afterExit(Duration served) {
        if (served.compareTo(resetAfter) >= 0) {
            failures = 0;
        }
        Duration delay = failures == 0 ? Duration.ZERO : failures > 30 ? max : initial.multipliedBy(1L << (failures - 1));
        failures++;
        return delay.compareTo(max) > 0 ? max : delay;
    }
}
