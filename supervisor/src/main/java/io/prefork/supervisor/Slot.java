package io.prefork.supervisor;

/**
 * One of the N places a worker runs in. It keeps its restart backoff and restart count across the
 * workers that fill it. During a rolling restart or a recycle it briefly has two: the active worker,
 * which serves, and its successor, which boots; the successor takes over once it is READY.
 */
public final class Slot {
    final int id;
    final Backoff backoff = Backoff.standard();
    Worker active;
    Worker successor;
    /** When an empty slot may start its next worker (System.nanoTime()). */
    long startAt;
    /** Workers started in this slot after the first. */
    int restarts;
    /** A failed recycle is not retried before this (System.nanoTime()). */
    long recycleNotBefore;
    /** Whether the slot's last worker had been READY: a crash, not a failed boot. */
    boolean lastServed;
    /** Why the successor boots: what its take-over counts as in /metrics. */
    Metrics.Cause successorCause = Metrics.Cause.RECYCLE;

    Slot(int id, long startAt) {
        this.id = id;
        this.startAt = startAt;
    }

    boolean holds(Worker w) {
        return active == w || successor == w;
    }
}
