package io.prefork.supervisor;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Boots that yield the CPU (--boot-nice): a JVM started while others serve, which nobody waits for
 * yet (a roll's or a recycle's successor, a spare, the class archive's training run), boots at a
 * lower priority, so that it takes what the serving workers leave instead of a core of theirs. Each
 * is lifted back to the normal priority as soon as one of these holds:
 * <ul>
 * <li>its boot is over: it is READY, or a parked spare (or it is being stopped);</li>
 * <li>somebody waits for it now: its slot has no READY worker, or, for a spare, some slot has none;</li>
 * <li>the workers that serve are idle: over the last quarter second their CPU time came to less
 *     than a tenth of the machine's CPUs. Then the boot has nobody to yield to but other programs,
 *     and a machine busy with other work would only starve it. (Not half: under wrk on the same
 *     2 cores, two saturated workers used 42–46% of them, the client the rest.)</li>
 * <li>it has yielded for a quarter of --boot-timeout.</li>
 * </ul>
 */
final class YieldingBoots {
    /** How often the serving workers' CPU time is read while a boot yields. */
    private static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** Boots yield while the READY workers use at least this share of the machine's CPUs. */
    static final double BUSY_SHARE = 0.1;

    private final Log log;
    /** When the READY workers' CPU time was last read (-1: no boot yields), and what it was then. */
    private long sampledAt = -1;
    private Map<Worker, Long> cpuAtSample = new HashMap<>();

    YieldingBoots(Log log) {
        this.log = log;
    }

    void tick(long now, WorkerPool pool) {
        if (pool.workers().stream().noneMatch(Worker::yieldsCpu)) {
            sampledAt = -1;  // the next boot that yields starts from a fresh reading
            return;
        }
        String servingIdle = servingIdle(now, pool);
        long bound = pool.settings().bootTimeout().toNanos() / 4;
        for (Worker w : pool.workers()) {
            if (!w.yieldsCpu() || w.state() == WorkerState.EXITED) {
                continue;
            }
            String why = !w.bootsItsJvm() ? (w.state() == WorkerState.READY ? "READY" : w.parked() ? "parked" : "stopping")
                    : waitedFor(w, pool) ? "a slot has no READY worker"
                    : servingIdle != null ? servingIdle
                    : now - w.yieldingSince() >= bound ? "still booting after a quarter of --boot-timeout"
                    : null;
            if (why != null) {
                w.stopYielding(why, log);
            }
        }
    }

    /** When the loop must wake to read the serving workers' CPU time again, at the latest {@code next}. */
    long nextDue(long next) {
        return sampledAt < 0 ? next : Math.min(next, sampledAt + SAMPLE_NANOS);
    }

    private static boolean waitedFor(Worker w, WorkerPool pool) {
        Slot slot = pool.slotHolding(w);
        if (slot == null) {
            return w.role() == WorkerRole.SPARE && pool.readyCount() < pool.size();
        }
        return slot.active == null || slot.active.state() != WorkerState.READY;
    }

    /**
     * Reads the READY workers' CPU time every quarter second; says why the boots need not yield when,
     * since the last reading, it came to less than {@link #BUSY_SHARE} of the CPUs; else null.
     */
    private String servingIdle(long now, WorkerPool pool) {
        if (sampledAt >= 0 && now - sampledAt < SAMPLE_NANOS) {
            return null;
        }
        Map<Worker, Long> cpu = new HashMap<>();
        for (Slot slot : pool.slots()) {
            Worker w = slot.active;
            long millis = w != null && w.state() == WorkerState.READY ? w.process().cpuMillis() : -1;
            if (millis >= 0) {
                cpu.put(w, millis);
            }
        }
        String idle = null;
        if (sampledAt >= 0) {  // else the first reading: only a baseline
            long used = 0;
            for (Map.Entry<Worker, Long> e : cpu.entrySet()) {
                Long before = cpuAtSample.get(e.getKey());
                used += before == null ? 0 : e.getValue() - before;
            }
            double share = used / (double) TimeUnit.NANOSECONDS.toMillis(now - sampledAt) / pool.settings().cpus();
            if (share < BUSY_SHARE) {
                idle = "the workers that serve used " + Math.round(share * 100) + "% of the CPUs";
            }
        }
        sampledAt = now;
        cpuAtSample = cpu;
        return idle;
    }
}
