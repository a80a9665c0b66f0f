package io.prefork.supervisor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * --stall-timeout: connections wait in the accept queue and no READY worker runs (all frozen:
 * SIGSTOP, swapped out, a debugger, a cgroup freezer; or all stuck without using the CPU). The
 * heartbeat finds a frozen worker only after --timeout; the queue and the workers' CPU time tell
 * within a second. On a stall the loop asks each stalled worker for a thread dump and starts a
 * successor for its slot (a parked spare first), at most --max-surge at a time; a successor takes
 * over when READY, as in a roll, and the stalled worker is retired (it drains if it wakes up, and
 * is killed a second after --graceful-timeout if not). Overload is not a stall: workers that use the
 * CPU while the queue grows get no successor.
 */
final class StallWatch {
    /** How often the accept queue is read while it is empty (the idle supervisor wakes for it), and while it is not. */
    private static final long IDLE_SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** A worker that used less than this share of a core over the window did not run. */
    private static final double RUNNING_SHARE = 0.05;

    private final Log log;
    private final ListenerSource listeners;
    private final Metrics metrics;
    private long lastSample;
    /** Since when the accept queue has held connections (-1: it is empty), and each READY worker's CPU time then. */
    private long queuedSince = -1;
    private final Map<Worker, Long> cpuAtStart = new HashMap<>();
    /** The workers of the stall declared now; empty when there is none. */
    private final List<Worker> stalled = new ArrayList<>();
    private long stalledSince;

    StallWatch(Log log, ListenerSource listeners, Metrics metrics) {
        this.log = log;
        this.listeners = listeners;
        this.metrics = metrics;
    }

    void tick(long now, WorkerPool pool) {
        long timeout = pool.settings().stallTimeout().toNanos();
        if (timeout <= 0 || now - lastSample < SAMPLE_NANOS) {
            return;
        }
        lastSample = now;
        int queued = listeners.queues().stream().mapToInt(Metrics.ListenQueue::queued).sum();
        if (queued == 0) {
            end(now, "the accept queue is empty again");
            queuedSince = -1;
            return;
        }
        List<Worker> ready = readyWorkers(pool);
        stalled.retainAll(pool.workers());
        surge(now, pool);  // successors for the stalled slots that have none yet, as --max-surge allows
        if (queuedSince < 0 || ready.isEmpty()) {
            startWindow(now, ready);
            return;
        }
        if (now - queuedSince < timeout) {
            return;
        }
        List<String> how = new ArrayList<>();
        for (Worker w : ready) {
            Long before = cpuAtStart.get(w);
            long cpu = w.process().cpuMillis();
            if (before == null || cpu < 0 || cpu - before >= RUNNING_SHARE * TimeUnit.NANOSECONDS.toMillis(now - queuedSince)) {
                end(now, w + " runs");  // overload, or a worker catching up, or a new one: not a stall
                startWindow(now, ready);
                return;
            }
            how.add(w + " used " + (cpu - before) + " ms of CPU");
        }
        List<Worker> newly = new ArrayList<>(ready);
        newly.removeAll(stalled);
        if (!newly.isEmpty()) {
            if (stalled.isEmpty()) {
                stalledSince = now;
                metrics.stall();
            }
            log.warn("stall: " + queued + " connection(s) in the accept queue for "
                    + TimeUnit.NANOSECONDS.toMillis(now - queuedSince) + " ms, and no READY worker ran ("
                    + String.join(", ", how) + "); asking " + (newly.size() == 1 ? "it" : "each") + " for a thread dump"
                    + " (on stdout once it runs) and starting successors (--max-surge " + pool.settings().maxSurge() + ")");
            for (Worker w : newly) {
                w.process().signal(io.prefork.unix.Linux.SIGQUIT);
            }
            stalled.addAll(newly);
            surge(now, pool);
        }
        startWindow(now, ready);  // and look again: another worker may freeze while this stall goes on
    }

    private void end(long now, String why) {
        if (!stalled.isEmpty()) {
            log.info("stall over after " + TimeUnit.NANOSECONDS.toMillis(now - stalledSince) + " ms: " + why);
            stalled.clear();
        }
    }

    long nextSample() {
        return lastSample + (queuedSince < 0 ? IDLE_SAMPLE_NANOS : SAMPLE_NANOS);
    }

    private void startWindow(long now, List<Worker> ready) {
        queuedSince = now;
        cpuAtStart.clear();
        for (Worker w : ready) {
            cpuAtStart.put(w, w.process().cpuMillis());
        }
    }

    private static List<Worker> readyWorkers(WorkerPool pool) {
        List<Worker> ready = new ArrayList<>();
        for (Slot slot : pool.slots()) {
            if (slot.active != null && slot.active.state() == WorkerState.READY) {
                ready.add(slot.active);
            }
        }
        return ready;
    }

    private void surge(long now, WorkerPool pool) {
        for (Slot slot : pool.slots()) {
            if (pool.successorsBooting() >= pool.settings().maxSurge()) {
                return;
            }
            if (stalled.contains(slot.active) && slot.successor == null) {
                pool.startSuccessor(slot, now, "stalled", Metrics.Cause.STALL);
            }
        }
    }
}
