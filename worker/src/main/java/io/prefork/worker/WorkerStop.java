package io.prefork.worker;

import io.prefork.protocol.WorkerExitCodes;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker's graceful stop: the app's stop handlers within a deadline (or, with none, prefork's drain
 * of an app that knows nothing of it), then exit 0; a watchdog halts the JVM if they overrun.
 */
final class WorkerStop {
    private final WorkerRuntime runtime;
    private final List<StopHandler> handlers = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    /** System.nanoTime() by which the stop handlers must be done; only ever moves earlier. */
    private volatile long deadline = Long.MAX_VALUE;
    /** System.nanoTime() at which the watchdog halts the JVM; only ever moves earlier. */
    private volatile long haltAt = Long.MAX_VALUE;

    WorkerStop(WorkerRuntime runtime) {
        this.runtime = runtime;
    }

    void addHandler(StopHandler handler) {
        handlers.add(handler);
    }

    boolean isStopping() {
        return stopping.get();
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
        if (handlers.isEmpty()) {
            drainWithoutTheApp();
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
        System.exit(0);
    }

    /**
     * The stop of an app that registered no stop handler: it knows nothing of prefork, so prefork
     * takes its listeners away, ends each connection it accepted once it waits for its client (a
     * request in flight finishes first), then exits so that the app's shutdown hooks run. What cannot
     * be saved without the app: a keep-alive client whose next request crosses the close.
     */
    private void drainWithoutTheApp() {
        try {
            int taken = runtime.stopAccepting();
            WorkerLog.info("no stop handler registered: took " + taken + " listener fd(s) from the app;"
                    + " ending each connection it accepted once it is idle");
            // Leave the app's shutdown hooks a moment of the deadline: 10%, at most 1 s.
            long left = Math.max(0, deadline - System.nanoTime());
            int busy = runtime.acceptedConnections().closeWhenIdle(
                    Duration.ofNanos(left - Math.min(left / 10, Duration.ofSeconds(1).toNanos())));
            WorkerLog.info(busy == 0 ? "every accepted connection was idle and is ended; exiting, the app's shutdown hooks run"
                    : busy + " connection(s) still busy at the deadline; exiting, the app's shutdown hooks run");
        } catch (IOException e) {
            WorkerLog.info("cannot drain the app's connections: " + e.getMessage() + "; exiting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
