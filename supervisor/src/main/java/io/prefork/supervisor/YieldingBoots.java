package io.prefork.supervisor;

/**
 * Boots that yield the CPU (--boot-nice): a JVM started while others serve, which nobody waits for
 * yet (a roll's or a recycle's successor, a spare, the class archive's training run), boots at a
 * lower priority, so that it takes what the serving workers leave instead of a core of theirs. Each
 * is lifted back to the normal priority as soon as one of these holds:
 * <ul>
 * <li>its boot is over: it is READY, or a parked spare (or it is being stopped);</li>
 * <li>somebody waits for it now: its slot has no READY worker, or, for a spare, some slot has none;</li>
 * <li>it has yielded for a quarter of --boot-timeout: a machine busy with other work must not starve it.</li>
 * </ul>
 */
final class YieldingBoots {
    private YieldingBoots() {
    }

    static void tick(long now, WorkerPool pool, Log log) {
        long bound = pool.settings().bootTimeout().toNanos() / 4;
        for (Worker w : pool.workers()) {
            if (!w.yieldsCpu() || w.state() == WorkerState.EXITED) {
                continue;
            }
            String why = !w.bootsItsJvm() ? (w.state() == WorkerState.READY ? "READY" : w.parked() ? "parked" : "stopping")
                    : waitedFor(w, pool) ? "a slot has no READY worker"
                    : now - w.yieldingSince() >= bound ? "still booting after a quarter of --boot-timeout"
                    : null;
            if (why != null) {
                w.stopYielding(why, log);
            }
        }
    }

    private static boolean waitedFor(Worker w, WorkerPool pool) {
        Slot slot = pool.slotHolding(w);
        if (slot == null) {
            return w.role() == WorkerRole.SPARE && pool.readyCount() < pool.size();
        }
        return slot.active == null || slot.active.state() != WorkerState.READY;
    }
}
