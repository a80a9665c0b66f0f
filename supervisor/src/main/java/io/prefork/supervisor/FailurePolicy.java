package io.prefork.supervisor;

import java.time.Duration;

/**
 * What follows a worker's unasked exit: restart its slot with backoff, let the worker still serving
 * go on (a failed successor aborts its roll or delays its recycle), or give up: workers that fail
 * to boot {@link Settings#maxBootFailures()} times in a row (exit 3, fast stop), or more unplanned
 * restarts than --max-restarts within --restart-window (exit 4, graceful stop). It keeps the count
 * and the reason; the loop does the stopping.
 */
public final class FailurePolicy {
    /** What the loop does next. */
    enum Verdict { CARRY_ON, STOP_FAST, STOP_GRACEFULLY }

    private final WorkerPool pool;
    private final Reloads reloads;
    private final Metrics metrics;
    private final Log log;
    private final RestartBudget restartBudget = new RestartBudget();
    private int consecutiveBootFailures;
    private int exitCode = ExitCodes.OK;
    private String failure;

    FailurePolicy(WorkerPool pool, Reloads reloads, Metrics metrics, Log log) {
        this.pool = pool;
        this.reloads = reloads;
        this.metrics = metrics;
        this.log = log;
    }

    /** A worker became READY: the run of boot failures is over. */
    void booted() {
        consecutiveBootFailures = 0;
    }

    /** A spare, or a slot's worker, exited while the supervisor was not stopping. */
    Verdict exited(WorkerPool.Exit exit, long now) {
        Worker worker = exit.worker();
        if (exit.role() == WorkerRole.SPARE) {
            if (worker.state() == WorkerState.DRAINING) {
                return Verdict.CARRY_ON;
            }
            log.warn(worker + ": failed before it was promoted: " + exit.reason());
            Verdict verdict = bootFailed(exit.reason());
            if (verdict == Verdict.CARRY_ON) {
                pool.backOffSpares(now);
            }
            return verdict;
        }
        Slot slot = exit.slot();
        if (slot == null || exit.role() == WorkerRole.RETIRING) {
            return Verdict.CARRY_ON;
        }
        Metrics.Cause kind = Metrics.classify(worker, exit.exitValue());
        metrics.restart(kind, Metrics.detail(kind, exit.exitValue()));
        String summary = restartBudget.record(now, worker.wasReady() ? exit.cause() : "failed to boot: " + exit.reason(),
                pool.settings().maxRestarts(), pool.settings().restartWindow());
        if (summary != null) {
            return giveUp(summary, ExitCodes.TOO_MANY_RESTARTS, Verdict.STOP_GRACEFULLY);
        }
        if (exit.role() == WorkerRole.SUCCESSOR) {
            if (reloads.isBooting(slot.id)) {
                reloads.abort(worker + " failed to boot: " + exit.reason());
            } else {
                pool.recycleFailed(slot, worker, exit.reason(), now);
            }
        } else if (!worker.wasReady()) {
            log.warn(worker + ": failed to boot: " + exit.reason());
            Verdict verdict = bootFailed(exit.reason());
            if (verdict != Verdict.CARRY_ON) {
                return verdict;
            }
        }
        if (slot.active == null && slot.successor == null) {
            Duration served = worker.wasReady() ? Duration.ofNanos(now - worker.readyAt()) : Duration.ZERO;
            pool.scheduleRestart(slot, slot.backoff.afterExit(served), now);
        }
        return Verdict.CARRY_ON;
    }

    /** Counts a failed boot (or a JVM that could not start); the verdict says whether that was one too many. */
    Verdict bootFailed(String reason) {
        consecutiveBootFailures++;
        if (consecutiveBootFailures < pool.settings().maxBootFailures()) {
            return Verdict.CARRY_ON;
        }
        return giveUp("workers failed to boot " + consecutiveBootFailures + " times in a row; last: " + reason,
                ExitCodes.WORKERS_FAILED_TO_BOOT, Verdict.STOP_FAST);
    }

    private Verdict giveUp(String why, int code, Verdict verdict) {
        failure = why;
        exitCode = code;
        log.error(why + "; stopping");
        return verdict;
    }

    /** Why the supervisor gave up, or null. */
    String failure() {
        return failure;
    }

    int exitCode() {
        return exitCode;
    }

    /** The stop could not reap every worker: exit 1, whatever the reason for stopping was. */
    void unreaped() {
        exitCode = ExitCodes.RUNTIME;
    }
}
