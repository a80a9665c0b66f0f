package io.prefork.supervisor;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The stop escalation, on a monotonic clock: graceful (STOP, then SIGKILL at the deadline) or
 * fast (SIGTERM, then SIGKILL after a second), and a last deadline for the kernel to reap.
 */
public final class Shutdown {
    /** After SIGKILL the kernel needs a moment to tear a JVM down; past this something is badly wrong. */
    private static final long REAP_AFTER_KILL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Log log;
    private boolean started;
    private boolean fast;
    private long killAt = Long.MAX_VALUE;
    private long giveUpAt = Long.MAX_VALUE;
    private boolean unreaped;
    /** Every worker is gone, and the check of an archive one wrote is still running (logged once). */
    private boolean awaitingCheck;

    Shutdown(Log log) {
        this.log = log;
    }

    boolean started() {
        return started;
    }

    /**
     * Graceful: each worker gets STOP with the time left and drains (ending idle kept-alive
     * connections at once if the server was {@code outOfRotation}); whatever is left at the
     * deadline gets SIGKILL. Fast, or a second request: SIGTERM now, SIGKILL after {@code fastTimeout}.
     */
    void request(boolean fastStop, boolean outOfRotation, String why, Settings settings, List<Worker> workers, long now) {
        if (!started) {
            started = true;
            killAt = now + settings.gracefulTimeout().toNanos();
            log.info((fastStop ? "fast stop (" : "graceful stop (") + why + ")" + (fastStop ? ""
                    : ": workers have " + Settings.seconds(settings.gracefulTimeout()) + " s to finish"));
            for (Worker w : workers) {
                w.askToStop(settings.gracefulTimeout(), outOfRotation, why, log);
            }
        } else if (fastStop && !fast) {
            log.info("fast stop (" + why + ")");
        }
        if (fastStop && !fast) {
            fast = true;
            killAt = Math.min(killAt, now + settings.fastStopTimeout().toNanos());
            for (Worker w : workers) {
                w.terminate();
            }
        }
    }

    /** Returns true once every worker is gone, or the last deadline passed (then {@link #unreaped()}). */
    boolean tick(long now, List<Worker> workers, boolean archiveChecking) {
        if (workers.isEmpty() && archiveChecking) {
            if (!awaitingCheck) {
                log.info("all workers are gone; the JVM checks the class archive the last one wrote, then the supervisor exits");
                awaitingCheck = true;
            }
            return false;
        }
        if (workers.isEmpty()) {
            log.info("all workers are gone; exiting");
            return true;
        }
        if (now >= killAt && giveUpAt == Long.MAX_VALUE) {
            for (Worker w : workers) {
                log.warn(w + ": still running at the stop deadline; sending SIGKILL");
                w.kill("still running at the stop deadline");
            }
            giveUpAt = now + REAP_AFTER_KILL_NANOS;
        }
        if (now >= giveUpAt) {
            log.error("workers still not reaped after SIGKILL: " + workers + "; exiting anyway");
            unreaped = true;
            return true;
        }
        return false;
    }

    boolean unreaped() {
        return unreaped;
    }

    long nextDue() {
        return Math.min(killAt, giveUpAt);
    }
}
