package io.prefork.supervisor;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the loop tells the service manager, and when: READY once the first generation is all
 * READY, STATUS whenever the counts change, RELOADING/READY around a reload, STOPPING, WATCHDOG only
 * while a worker is READY (so a server that cannot serve goes quiet and systemd restarts it), and
 * EXTEND_TIMEOUT while start-up, a reload or a stop makes progress. Loop thread only.
 */
public final class ServiceNotices {
    /** While start-up, a reload or a stop makes progress, systemd hears "15 s more" every 5 s. */
    private static final Duration EXTEND_BY = Duration.ofSeconds(15);
    private static final long EXTEND_EVERY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private ServiceManager manager = ServiceManager.NONE;
    /** READY=1 went out: the first generation was all READY once. */
    private boolean started;
    private boolean reloading;
    private String lastStatus = "";
    private long nextWatchdog;
    private long nextExtend;

    void use(ServiceManager manager) {
        this.manager = manager;
    }

    /** Each loop step: the counts as "2/2 workers READY", and what the loop is doing. */
    void tick(long now, String counts, int ready, boolean stopping, boolean workersLeft) {
        String status = counts + (stopping ? ", stopping" : reloading ? ", reloading" : "");
        if (!status.equals(lastStatus)) {
            lastStatus = status;
            manager.status(status);
        }
        Duration watchdog = manager.watchdogInterval();
        if (!watchdog.isZero() && now >= nextWatchdog && ready > 0) {
            manager.watchdog();
            nextWatchdog = now + watchdog.toNanos();
        }
        boolean inProgress = stopping ? workersLeft : !started || reloading;
        if (inProgress && now >= nextExtend) {
            manager.extendTimeout(EXTEND_BY);
            nextExtend = now + EXTEND_EVERY_NANOS;
        }
    }

    /** Every worker is READY: the first time (and not while stopping), start-up is over. */
    void allReady(String counts, boolean stopping) {
        if (!started && !stopping) {
            started = true;
            manager.ready(counts);
        }
    }

    void reloadStarted(long now, String counts) {
        reloading = true;
        manager.reloading(now, "reloading: " + counts);
    }

    /** @param outcome completed, aborted, cancelled, or null when the configuration was refused */
    void reloadEnded(String outcome, String counts, boolean stopping) {
        reloading = false;
        if (!stopping) {
            manager.ready(counts + (outcome == null ? ", reload refused"
                    : outcome.equals("aborted") ? ", reload aborted" : ""));
        }
    }

    void stopping(String status) {
        manager.stopping(status);
    }

    void mainPid(long pid) {
        manager.mainPid(pid);
    }

    /** When the next watchdog ping is due, if one is armed and a worker is READY. */
    long nextDue(long next, int ready) {
        return !manager.watchdogInterval().isZero() && ready > 0 ? Math.min(next, nextWatchdog) : next;
    }
}
