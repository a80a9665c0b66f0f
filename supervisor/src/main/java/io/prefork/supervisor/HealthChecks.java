package io.prefork.supervisor;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The loop's timed checks on worker health: a boot that takes too long, a READY worker gone silent,
 * a worker grown too big, workers stalled while connections wait ({@link StallWatch}); and boots
 * that yield the CPU, lifted when they should not any more ({@link YieldingBoots}). They only kill,
 * mark, replace or lift workers; the exits that follow go through the loop.
 */
public final class HealthChecks {
    /** Time a silent worker gets to print its thread dump before SIGKILL. */
    static final long DUMP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long RSS_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Log log;
    private final StallWatch stalls;
    private final YieldingBoots yieldingBoots;
    private long lastRssCheck;
    /** When each draining worker was first seen draining. */
    private final java.util.Map<Worker, Long> drainingSince = new java.util.HashMap<>();

    HealthChecks(Log log, StallWatch stalls) {
        this.log = log;
        this.stalls = stalls;
        this.yieldingBoots = new YieldingBoots(log);
    }

    void run(long now, Settings settings, WorkerPool pool) {
        yieldingBoots.tick(now, pool);
        killWorkersNotReadyInTime(now, settings, pool.workers());
        killUnresponsiveWorkers(now, settings, pool.workers());
        checkMemory(now, settings, pool.slots());
        killDrainsPastTheirDeadline(now, settings, pool.workers());
        stalls.tick(now, pool);
    }

    /**
     * A replaced worker drains on its own and exits by --graceful-timeout. One that cannot (frozen
     * when it was told: a stall's, or a roll's victim) is killed a second after that deadline.
     */
    private void killDrainsPastTheirDeadline(long now, Settings settings, List<Worker> workers) {
        drainingSince.keySet().retainAll(workers);
        for (Worker w : workers) {
            if (w.state() != WorkerState.DRAINING || w.killSent()) {
                continue;
            }
            long since = drainingSince.computeIfAbsent(w, x -> now);
            if (now - since > settings.gracefulTimeout().toNanos() + DUMP_GRACE_NANOS) {
                log.warn(w + ": still draining " + Settings.seconds(settings.gracefulTimeout())
                        + " s (--graceful-timeout) after it was told to stop; killing it");
                w.kill("did not drain within --graceful-timeout");
            }
        }
    }

    private void killWorkersNotReadyInTime(long now, Settings settings, List<Worker> workers) {
        for (Worker w : workers) {
            boolean booting = w.state() == WorkerState.STARTING || w.state() == WorkerState.BOOTING;
            if (booting && !w.killSent() && now - w.startedAt() >= settings.bootTimeout().toNanos()) {
                String reason = "not READY within --boot-timeout " + Settings.seconds(settings.bootTimeout()) + " s";
                log.warn(w + ": " + reason + "; killing it");
                w.setBootError(reason);
                w.kill(reason);
            }
        }
    }

    /**
     * A READY worker that stops sending heartbeats is frozen (SIGSTOP, swap, a GC spiral). It is
     * told to stop, then thawed and asked for a thread dump, so the operator sees where it hung; a
     * second later it is killed. STOP goes first, so that the moment it runs again it stops taking
     * connections, and what it held may still finish, instead of being reset.
     */
    private void killUnresponsiveWorkers(long now, Settings settings, List<Worker> workers) {
        if (settings.timeout().isZero()) {
            return;
        }
        String timeout = Settings.seconds(settings.timeout());
        for (Worker w : workers) {
            if (w.dumpRequestedAt() >= 0) {
                if (now - w.dumpRequestedAt() >= DUMP_GRACE_NANOS) {
                    w.kill("no heartbeat for " + timeout + " s");
                }
                continue;
            }
            long silent = now - w.lastHeartbeat();
            if (w.state() == WorkerState.READY && !w.killSent() && silent > settings.timeout().toNanos()) {
                log.warn(w + ": no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms (--timeout "
                        + timeout + " s); stopping it; its thread dump follows on stdout; SIGKILL in 1 s");
                w.askToStop(java.time.Duration.ofNanos(DUMP_GRACE_NANOS), "no heartbeat", log);
                w.requestThreadDump(now);
            }
        }
    }

    private void checkMemory(long now, Settings settings, List<Slot> slots) {
        if (settings.maxRssBytes() <= 0 || now - lastRssCheck < RSS_CHECK_NANOS) {
            return;
        }
        lastRssCheck = now;
        for (Slot slot : slots) {
            Worker w = slot.active;
            if (w != null && w.state() == WorkerState.READY && !w.recycleWanted()) {
                long rss = w.process().rssBytes();
                if (rss > settings.maxRssBytes()) {
                    log.info(w + ": resident memory " + (rss >> 20) + " MiB is over --max-worker-rss "
                            + (settings.maxRssBytes() >> 20) + " MiB; recycling once a replacement is READY");
                    w.wantRecycle();
                }
            }
        }
    }

    /** When the loop must wake for these checks next, at the latest {@code next}. */
    long nextDue(long next, Settings settings, List<Worker> workers) {
        for (Worker w : workers) {
            if (!w.wasReady()) {
                next = Math.min(next, w.startedAt() + settings.bootTimeout().toNanos());
            } else if (w.dumpRequestedAt() >= 0) {
                next = Math.min(next, w.dumpRequestedAt() + DUMP_GRACE_NANOS);
            }
        }
        next = yieldingBoots.nextDue(next);
        // The accept queue is sampled every 250 ms (100 ms once it holds connections): a stall is found
        // within --stall-timeout and a quarter second, not whenever an event happens to wake the loop.
        return settings.stallTimeout().isZero() ? next : Math.min(next, stalls.nextSample());
    }
}
