package io.prefork.worker;

import io.prefork.protocol.WorkerExitCodes;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

/**
 * A worker's graceful stop: the listeners taken away, then the app's stop handlers within a deadline
 * (or, with none, prefork's drain of an app that knows nothing of it), then exit 0; a watchdog halts
 * the JVM if they overrun.
 */
final class WorkerStop {
    /** Takes the listeners away from the app; returns how many fds it took (0 if done before). */
    @FunctionalInterface
    interface Withdrawal {
        int stopAccepting() throws IOException;
    }

    /** Ends each accepted connection once it is idle, within the time given; returns how many were still busy. */
    @FunctionalInterface
    interface IdleCloser {
        int closeWhenIdle(Duration timeLeft) throws IOException, InterruptedException;
    }

    private final Withdrawal withdrawal;
    private final IdleCloser idleCloser;
    /** System.exit in a worker; a test's own. */
    private final IntConsumer exit;
    private final List<StopHandler> handlers = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    /** Set once the listeners are taken away, after the stop began: see {@link #isDraining}. */
    private volatile boolean draining;
    /** System.nanoTime() by which the stop handlers must be done; only ever moves earlier. */
    private volatile long deadline = Long.MAX_VALUE;
    /** System.nanoTime() at which the watchdog halts the JVM; only ever moves earlier. */
    private volatile long haltAt = Long.MAX_VALUE;

    WorkerStop(Withdrawal withdrawal, IdleCloser idleCloser, IntConsumer exit) {
        this.withdrawal = withdrawal;
        this.idleCloser = idleCloser;
        this.exit = exit;
    }

    void addHandler(StopHandler handler) {
        handlers.add(handler);
    }

    boolean isStopping() {
        return stopping.get();
    }

    /**
     * True once this worker takes no new connection: only then should the app answer {@code
     * Connection: close}. Before that, a client told to reconnect could come back to this very worker
     * and be told again, until it lands on whichever worker kept accepting: in a roll, the warm old
     * one instead of the successor, which then meets all its load at once when the last old one stops.
     */
    boolean isDraining() {
        return draining;
    }

    /**
     * Runs the stop handlers, then exits 0. With no handler registered, exits at once so the app's
     * own shutdown hooks do the stopping. A watchdog halts the JVM {@code haltGrace} after the
     * deadline if the handlers are not done by then. A second call while stopping can only bring
     * both closer (the supervisor died mid-drain).
     */
    void stop(Duration timeLeft, Duration haltGrace, String reason) {
        long requested = System.nanoTime() + timeLeft.toNanos();
        if (!stopping.compareAndSet(false, true)) {
            if (requested + haltGrace.toNanos() < haltAt) {
                deadline = Math.min(deadline, requested);
                haltAt = requested + haltGrace.toNanos();
                WorkerLog.info("still stopping, now with " + timeLeft.toMillis() + " ms left: " + reason);
            }
            return;
        }
        deadline = requested;
        haltAt = requested + haltGrace.toNanos();
        WorkerLog.info("stopping: " + reason + "; " + timeLeft.toMillis() + " ms to finish");
        Thread watchdog = new Thread(this::haltWhenDue, "prefork-stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        Thread stopper = new Thread(this::runHandlers, "prefork-stop");
        // Not a daemon (it would be, made by our daemon reader): an app whose main returns once its
        // listener closes would otherwise let the JVM exit in the middle of the stop handlers.
        stopper.setDaemon(false);
        stopper.start();
    }

    private void runHandlers() {
        int taken = withdrawListeners();
        draining = true;
        if (handlers.isEmpty()) {
            drainWithoutTheApp(taken);
        }
        for (StopHandler handler : handlers) {
            try {
                handler.stop(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            } catch (Exception e) {
                WorkerLog.info("stop handler failed: " + e);
            }
        }
        StdStreams.restore();
        WorkerLog.info("stopped");
        exit.accept(0);
    }

    /**
     * The stop of an app that registered no stop handler: it knows nothing of prefork, so prefork
     * takes its listeners away, ends each connection it accepted once it waits for its client (a
     * request in flight finishes first), then exits so that the app's shutdown hooks run. What cannot
     * be saved without the app: a keep-alive client whose next request crosses the close.
     */
    private void drainWithoutTheApp(int taken) {
        try {
            WorkerLog.info("no stop handler registered: took " + taken + " listener fd(s) from the app;"
                    + " ending each connection it accepted once it is idle");
            // Leave the app's shutdown hooks a moment of the deadline: 10%, at most 1 s.
            long left = Math.max(0, deadline - System.nanoTime());
            int busy = idleCloser.closeWhenIdle(
                    Duration.ofNanos(left - Math.min(left / 10, Duration.ofSeconds(1).toNanos())));
            WorkerLog.info(busy == 0 ? "every accepted connection was idle and is ended; exiting, the app's shutdown hooks run"
                    : busy + " connection(s) still busy at the deadline; exiting, the app's shutdown hooks run");
        } catch (IOException e) {
            WorkerLog.info("cannot drain the app's connections: " + e.getMessage() + "; exiting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * First of every stop, whatever the app's handlers do next (they may ask again: it is done once):
     * the listeners are taken away, so connections still queued and clients that reconnect go to the
     * other workers. Returns how many fds it took.
     */
    private int withdrawListeners() {
        try {
            return withdrawal.stopAccepting();
        } catch (IOException e) {
            WorkerLog.info("cannot take the listeners away from the app: " + e.getMessage());
            return 0;
        }
    }

    private void haltWhenDue() {
        long left;
        while ((left = haltAt - System.nanoTime()) > 0) {
            try {
                // Short naps: the deadline may move closer while we wait.
                Thread.sleep(Math.max(1, Math.min(50, left / 1_000_000)));
            } catch (InterruptedException e) {
                return;
            }
        }
        StdStreams.restore();
        WorkerLog.info("did not stop within the deadline; halting");
        Runtime.getRuntime().halt(WorkerExitCodes.STOP_TIMEOUT);
    }
}
