package io.prefork.supervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Reloads and the rolling restarts they start: at most one roll at a time, one more queued behind
 * it, and on failure the previous configuration back in force. Loop thread only.
 */
final class Rolls {
    /** What a roll needs from the supervisor loop. */
    interface Loop {
        Generation current();

        void apply(Generation generation);

        /** Boots a successor for the slot; false if no JVM could be started. */
        boolean startSuccessor(Slot slot, long now, String why);

        void retire(Worker worker, String why);

        void resize(int n, String why);

        /** A reload begins (a service manager hears RELOADING). */
        void reloadStarted();

        /**
         * The reload is over, and the old or new workers serve (READY again). {@code outcome}:
         * completed, aborted or cancelled; null when the configuration was refused and no roll ran.
         */
        void reloadEnded(String outcome);
    }

    private final WorkerPool pool;
    private final Loop loop;
    private final Log log;
    private Supervisor.Reloader reloader;
    private RollingRestart roll;
    private boolean again;
    private final List<CompletableFuture<AdminReply>> nextWaiters = new ArrayList<>();

    Rolls(WorkerPool pool, Loop loop, Log log) {
        this.pool = pool;
        this.loop = loop;
        this.log = log;
    }

    void setReloader(Supervisor.Reloader reloader) {
        this.reloader = reloader;
    }

    boolean active() {
        return roll != null;
    }

    /** True if the slot's successor belongs to the running roll. */
    boolean isBooting(int slotId) {
        return roll != null && roll.isBooting(slotId);
    }

    void replaced(int slotId) {
        if (isBooting(slotId)) {
            roll.replacedOne(slotId);
        }
    }

    void forget(int slotId) {
        if (roll != null) {
            roll.forget(slotId);
        }
    }

    /** Reads the configuration again and starts a roll onto it, or queues one behind the running roll. */
    void reload(String why, CompletableFuture<AdminReply> waiter) {
        if (roll != null) {
            again = true;
            if (waiter != null) {
                nextWaiters.add(waiter);
            }
            log.info(why + ": a rolling restart is under way; another one follows it");
            return;
        }
        Generation previous = loop.current();
        loop.reloadStarted();
        if (reloader != null) {
            try {
                loop.apply(reloader.reload());
            } catch (UsageException e) {
                log.error(why + ": configuration not reloaded, keeping the running one: " + e.getMessage());
                if (waiter != null) {
                    waiter.complete(AdminReply.error("configuration not reloaded: " + e.getMessage()));
                }
                loop.reloadEnded(null);
                return;
            }
        }
        Supervisor.Settings settings = loop.current().settings();
        List<Integer> toReplace = new ArrayList<>();
        for (Slot slot : pool.slots()) {
            if (slot.active != null && slot.id <= settings.workers()) {
                toReplace.add(slot.id);
            }
        }
        loop.resize(settings.workers(), why);
        roll = new RollingRestart(why, previous, toReplace);
        roll.addWaiter(waiter);
        log.info("rolling restart (" + why + "): replacing " + toReplace.size() + " worker(s), "
                + settings.maxSurge() + " at a time; each old one stops once its successor is READY");
    }

    /** Starts successors within the surge budget; finishes the roll once all are replaced. */
    void advance(long now) {
        while (roll != null) {
            Integer id;
            while ((id = roll.next(loop.current().settings().maxSurge())) != null) {
                Slot slot = pool.slotWithId(id);
                if (slot == null || slot.active == null || slot.successor != null) {
                    roll.forget(id); // gone, empty (restarts with the new configuration anyway), or already being replaced
                } else if (!loop.startSuccessor(slot, now, roll.reason)) {
                    abort("cannot start a JVM for worker " + id);
                    return;
                }
            }
            if (!roll.isDone()) {
                return;
            }
            String text = "rolling restart done: " + roll.replaced() + " worker(s) replaced";
            log.info(text);
            roll.finish(AdminReply.ok(text));
            roll = null;
            loop.reloadEnded("completed");
            if (again) {
                startQueued(); // and go round again to start its first successors now
            }
        }
    }

    /** A reload asked for during a roll runs after it, with the configuration as it is then. */
    private void startQueued() {
        again = false;
        List<CompletableFuture<AdminReply>> waiters = List.copyOf(nextWaiters);
        nextWaiters.clear();
        reload("queued reload", null);
        for (CompletableFuture<AdminReply> waiter : waiters) {
            if (roll != null) {
                roll.addWaiter(waiter);
            } else {
                waiter.complete(AdminReply.error("the queued reload did not start; see the supervisor's log"));
            }
        }
    }

    /** A successor failed: its siblings are stopped, the old workers stay, the old configuration returns. */
    void abort(String reason) {
        String text = "rolling restart aborted: " + reason + "; the old workers keep serving";
        log.error(text);
        for (int id : roll.booting()) {
            Slot slot = pool.slotWithId(id);
            if (slot != null && slot.successor != null) {
                Worker successor = slot.successor;
                slot.successor = null;
                loop.retire(successor, "rolling restart aborted");
            }
        }
        loop.apply(roll.previous);
        roll.finish(AdminReply.error(text));
        roll = null;
        loop.reloadEnded("aborted");
        again = false;
        nextWaiters.forEach(w -> w.complete(AdminReply.error(text)));
        nextWaiters.clear();
    }

    /** The supervisor is stopping: whoever waits for a roll hears so. */
    void cancel() {
        if (roll != null) {
            roll.finish(AdminReply.error("rolling restart cut short: the supervisor is stopping"));
            roll = null;
            loop.reloadEnded("cancelled");
        }
        nextWaiters.forEach(w -> w.complete(AdminReply.error("the supervisor is stopping")));
        nextWaiters.clear();
        again = false;
    }
}
