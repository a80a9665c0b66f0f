package io.prefork.supervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Reloads and the rolling restarts they start: at most one roll at a time, one more queued behind
 * it, and on failure the previous configuration back in force. Reading the configuration may start
 * a JVM (the class archive's check), so it runs off the loop and comes back as an
 * {@link Event.ConfigRead}. Loop thread only.
 */
public final class Reloads {
    private final WorkerPool pool;
    private final ServiceNotices notices;
    private final Metrics metrics;
    /** Whether a stop (or its lame-duck period) has begun: then a reload's end does not tell systemd READY. */
    private final BooleanSupplier stopping;
    private final Log log;
    private final Executor offLoop;
    private final Consumer<Event> events;
    private Reloader reloader;
    /** The reload whose configuration is being read, if one is; a stop makes it stale. */
    private Event.ConfigRead.Request reading;
    private RollingRestart roll;
    private boolean again;
    private final List<CompletableFuture<AdminReply>> nextWaiters = new ArrayList<>();

    Reloads(WorkerPool pool, ServiceNotices notices, Metrics metrics, BooleanSupplier stopping, Log log,
            Executor offLoop, Consumer<Event> events) {
        this.pool = pool;
        this.notices = notices;
        this.metrics = metrics;
        this.stopping = stopping;
        this.log = log;
        this.offLoop = offLoop;
        this.events = events;
    }

    void setReloader(Reloader reloader) {
        this.reloader = reloader;
    }

    /** A roll runs, or its configuration is being read: recycles wait, the roll replaces every worker anyway. */
    boolean active() {
        return roll != null || reading != null;
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
    void reload(String why, CompletableFuture<AdminReply> waiter, long now) {
        List<CompletableFuture<AdminReply>> waiters = new ArrayList<>();
        if (waiter != null) {
            waiters.add(waiter);
        }
        if (roll != null || reading != null) {
            again = true;
            nextWaiters.addAll(waiters);
            log.info(why + ": a rolling restart is under way; another one follows it");
            return;
        }
        read(new Event.ConfigRead.Request(why, waiters, pool.generation()), now);
    }

    private void read(Event.ConfigRead.Request request, long now) {
        notices.reloadStarted(now, pool.counts());
        reading = request;
        if (reloader == null) {
            configured(new Event.ConfigRead(request, request.previous(), null), now);
            return;
        }
        Reloader source = reloader;
        offLoop.execute(() -> {
            try {
                events.accept(new Event.ConfigRead(request, source.reload(), null));
            } catch (UsageException | RuntimeException e) {
                events.accept(new Event.ConfigRead(request, null, e.getMessage()));
            }
        });
    }

    /** The configuration is read (or refused): the roll onto it starts. */
    void configured(Event.ConfigRead read, long now) {
        Event.ConfigRead.Request request = read.request();
        if (reading != request) {
            return; // a stop came first
        }
        reading = null;
        if (read.refusal() != null) {
            log.error(request.why() + ": configuration not reloaded, keeping the running one: " + read.refusal());
            request.waiters().forEach(w -> w.complete(AdminReply.error("configuration not reloaded: " + read.refusal())));
            ended(null);
            startQueuedIfAny(now);
            return;
        }
        pool.use(read.generation());
        Settings settings = read.generation().settings();
        List<Integer> toReplace = new ArrayList<>();
        for (Slot slot : pool.slots()) {
            if (slot.active != null && slot.id <= settings.workers()) {
                toReplace.add(slot.id);
            }
        }
        pool.resize(settings.workers(), request.why(), now);
        roll = new RollingRestart(request.why(), request.previous(), toReplace);
        request.waiters().forEach(roll::addWaiter);
        log.info("rolling restart (" + request.why() + "): replacing " + toReplace.size() + " worker(s), "
                + settings.maxSurge() + " at a time; each old one stops once its successor is READY");
    }

    /**
     * The reload is over, and the old or new workers serve (READY again). {@code outcome}:
     * completed, aborted or cancelled; null when the configuration was refused and no roll ran.
     */
    private void ended(String outcome) {
        if (outcome != null) {
            metrics.roll(outcome);
        }
        notices.reloadEnded(outcome, pool.counts(), stopping.getAsBoolean());
    }

    /** Starts successors within the surge budget; finishes the roll once all are replaced. */
    void advance(long now) {
        while (roll != null) {
            Integer id;
            while ((id = roll.next(pool.settings().maxSurge())) != null) {
                Slot slot = pool.slotWithId(id);
                if (slot == null || slot.active == null || slot.successor != null) {
                    roll.forget(id); // gone, empty (restarts with the new configuration anyway), or already being replaced
                } else if (!pool.startSuccessor(slot, now, roll.reason, Metrics.Cause.RELOAD)) {
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
            ended("completed");
            startQueuedIfAny(now); // and go round again to start its first successors now
        }
    }

    /** A reload asked for during a roll runs after it, with the configuration as it is then. */
    private void startQueuedIfAny(long now) {
        if (!again) {
            return;
        }
        again = false;
        List<CompletableFuture<AdminReply>> waiters = new ArrayList<>(nextWaiters);
        nextWaiters.clear();
        read(new Event.ConfigRead.Request("queued reload", waiters, pool.generation()), now);
    }

    /** A successor failed: its siblings are stopped, the old workers stay, the old configuration returns. */
    void abort(String reason) {
        String text = "rolling restart aborted: " + reason + "; the old workers keep serving";
        log.error(text);
        for (int id : roll.booting()) {
            Slot slot = pool.slotWithId(id);
            if (slot != null && slot.successor != null) {
                pool.dropSuccessor(slot, "rolling restart aborted");
            }
        }
        pool.use(roll.previous);
        roll.finish(AdminReply.error(text));
        roll = null;
        ended("aborted");
        again = false;
        nextWaiters.forEach(w -> w.complete(AdminReply.error(text)));
        nextWaiters.clear();
    }

    /** The supervisor is stopping: whoever waits for a roll hears so. */
    void cancel() {
        if (reading != null) {
            reading.waiters().forEach(w -> w.complete(AdminReply.error("rolling restart cut short: the supervisor is stopping")));
            reading = null;
            ended("cancelled");
        }
        if (roll != null) {
            roll.finish(AdminReply.error("rolling restart cut short: the supervisor is stopping"));
            roll = null;
            ended("cancelled");
        }
        nextWaiters.forEach(w -> w.complete(AdminReply.error("the supervisor is stopping")));
        nextWaiters.clear();
        again = false;
    }
}
