package io.prefork.supervisor;

/** Where the supervisor is in its life; the loop's {@code step} does what the phase calls for. */
public enum Phase {
    /** Serving: health checks, due starts, the roll, recycles and spares all run. */
    RUNNING,
    /** After TERM with --lame-duck: /readyz answers 503 while the workers still serve, until the period ends. */
    LAME_DUCK,
    /** A stop is under way: no new workers; STOP, then SIGKILL at the deadline, until all are reaped. */
    STOPPING,
    /** Every worker is gone: {@code run} returns the exit code. */
    DONE;

    /** What /readyz and systemd hear: not ready once TERM arrived, lame duck included. */
    boolean stopping() {
        return this != RUNNING;
    }
}
