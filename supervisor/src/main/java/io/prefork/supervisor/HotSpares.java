package io.prefork.supervisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The hot spares (--spares) the pool keeps: JVMs booted and connected, with no sockets yet, and when
 * the next one may boot. Confined to the loop thread, like the {@link WorkerPool} that owns it.
 */
final class HotSpares {
    private final List<Worker> spares = new ArrayList<>();
    private final Backoff backoff = Backoff.standard();
    private long notBefore;

    int size() {
        return spares.size();
    }

    void add(Worker spare) {
        spares.add(spare);
    }

    void remove(Worker worker) {
        spares.remove(worker);
    }

    /** Takes a spare that can be promoted now: one whose app already waits for its sockets, if any. */
    Worker take() {
        Worker best = null;
        for (Worker w : spares) {
            if (w.state() == WorkerState.SPARE && (best == null || (w.parked() && !best.parked()))) {
                best = w;
            }
        }
        spares.remove(best);
        return best;
    }

    /** A spare died before it was promoted: the next one waits a backoff. */
    void backOff(long now) {
        notBefore = now + backoff.afterExit(Duration.ZERO).toNanos();
    }

    /**
     * When the next spare may boot: after the backoff, and once every promoted spare has settled (READY,
     * and a heartbeat since) and served {@code delay} (--spare-delay). {@code Long.MAX_VALUE} while one
     * has not settled: its heartbeat wakes the loop.
     */
    long mayBootAt(List<Slot> slots, Duration delay) {
        long at = notBefore;
        for (Slot slot : slots) {
            for (Worker w : new Worker[] {slot.active, slot.successor}) {
                if (w == null || !w.wasSpare()) {
                    continue;
                }
                if (!w.settled()) {
                    return Long.MAX_VALUE;
                }
                at = Math.max(at, w.readyAt() + delay.toNanos());
            }
        }
        return at;
    }
}
