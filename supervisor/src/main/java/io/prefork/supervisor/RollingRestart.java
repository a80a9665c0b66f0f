package io.prefork.supervisor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One rolling restart: the slots still to replace, the ones whose successor is booting, and who is
 * waiting for the outcome. The supervisor loop drives it; this class only keeps the books.
 * Unlike gunicorn's HUP, an old worker is retired only once its successor is READY, and a
 * successor that fails stops the roll: the old workers keep serving.
 */
public final class RollingRestart {
    final String reason;
    /** What to go back to if the roll aborts. */
    final Generation previous;
    private final Deque<Integer> pending = new ArrayDeque<>();
    private final Set<Integer> booting = new HashSet<>();
    private final List<CompletableFuture<AdminReply>> waiters = new ArrayList<>();
    private int replaced;

    RollingRestart(String reason, Generation previous, List<Integer> slotIds) {
        this.reason = reason;
        this.previous = previous;
        pending.addAll(slotIds);
    }

    void addWaiter(CompletableFuture<AdminReply> waiter) {
        if (waiter != null) {
            waiters.add(waiter);
        }
    }

    /** The next slot to replace, if fewer than {@code maxSurge} successors are booting. */
    Integer next(int maxSurge) {
        if (booting.size() >= maxSurge || pending.isEmpty()) {
            return null;
        }
        Integer id = pending.poll();
        booting.add(id);
        return id;
    }

    boolean isBooting(int slotId) {
        return booting.contains(slotId);
    }

    Set<Integer> booting() {
        return Set.copyOf(booting);
    }

    void replacedOne(int slotId) {
        booting.remove(slotId);
        replaced++;
    }

    /** A slot that went away (scaled down) or had nothing to replace. */
    void forget(int slotId) {
        booting.remove(slotId);
        pending.remove(slotId);
    }

    boolean isDone() {
        return pending.isEmpty() && booting.isEmpty();
    }

    int replaced() {
        return replaced;
    }

    void finish(AdminReply reply) {
        waiters.forEach(w -> w.complete(reply));
        waiters.clear();
    }
}
