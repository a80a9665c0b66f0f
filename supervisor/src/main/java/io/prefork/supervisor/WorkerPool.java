package io.prefork.supervisor;

import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * The slots and every worker process started and not yet reaped, and their lifecycle: starting,
 * promoting, replacing, retiring and reaping. Only the pool writes a {@link Slot} or a worker's
 * {@link WorkerRole} (a roll asks it to). It decides nothing about failures: {@link #reap} says what
 * ended, and the loop routes it. Confined to the supervisor's loop thread, like everything it holds.
 */
public final class WorkerPool {
    /** A reaped worker: its role when it exited, the slot it held (null if none), and how it ended. */
    record Exit(Worker worker, WorkerRole role, Slot slot, int exitValue, String cause) {
        /** The worker's own reason for a failed boot if it gave one, else how it ended. */
        String reason() {
            return worker.bootError() != null ? worker.bootError() : cause;
        }
    }

    private final List<Slot> slots = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    /** Hot spares: booted, connected, no sockets yet. Also in {@link #workers}. */
    private final HotSpares spares = new HotSpares();
    private final Consumer<Event> events;
    private final ControlAdmission admission;
    private final ListenerSource listeners;
    private final Log log;
    private final SecureRandom random = new SecureRandom();
    private Generation generation;
    private boolean announcedAllReady;

    /** @param events where each worker's exit is posted */
    WorkerPool(Generation generation, long now, Consumer<Event> events, ControlAdmission admission,
               ListenerSource listeners, Log log) {
        this.generation = generation;
        this.events = events;
        this.admission = admission;
        this.listeners = listeners;
        this.log = log;
        addSlots(generation.settings().workers(), now);
    }

    /** What workers start with now; a reload replaces it, an aborted roll puts the previous one back. */
    Generation generation() {
        return generation;
    }

    void use(Generation next) {
        generation = next;
    }

    Settings settings() {
        return generation.settings();
    }

    List<Slot> slots() {
        return slots;
    }

    List<Worker> workers() {
        return workers;
    }

    int size() {
        return slots.size();
    }

    // ---- starting ----

    /** Fills each empty slot whose time has come (or whose worker had served, while none is READY: a crash backoff
     *  must not leave the server dark), with a spare if one waits, else a new JVM; one that cannot start is a failed boot. */
    FailurePolicy.Verdict startDueWorkers(long now, FailurePolicy failures) {
        boolean noneServes = readyCount() == 0;
        for (Slot slot : slots) {
            if (slot.active == null && slot.successor == null && (now >= slot.startAt || noneServes && slot.lastServed)) {
                slot.active = promoteSpare(slot, WorkerRole.ACTIVE, now, "worker " + slot.id + " had none");
                if (slot.active != null || jvmsBooting() >= settings().bootsAtOnce()) {
                    continue;  // the slot stays due: the next step looks again
                }
                try {
                    slot.active = launchServing(slot.id, WorkerRole.ACTIVE, now);
                    log.info(slot.active + ": started, " + WorkerState.STARTING + slot.active.bootPriority());
                } catch (IOException e) {
                    log.error("worker " + slot.id + ": cannot start a JVM: " + e.getMessage());
                    FailurePolicy.Verdict verdict = e instanceof WorkerLauncher.ResourcesExhausted
                            ? FailurePolicy.Verdict.CARRY_ON  // it comes back: retried with backoff, never given up on
                            : failures.bootFailed("cannot start a JVM: " + e.getMessage());
                    if (verdict != FailurePolicy.Verdict.CARRY_ON) {
                        return verdict;
                    }
                    scheduleRestart(slot, slot.backoff.afterExit(Duration.ZERO), now);
                }
            }
        }
        return FailurePolicy.Verdict.CARRY_ON;
    }

    /** Boots a second worker for the slot; it takes over when READY (rolling restart, recycle). */
    boolean startSuccessor(Slot slot, long now, String why, Metrics.Cause cause) {
        slot.successorCause = cause;
        slot.successor = promoteSpare(slot, WorkerRole.SUCCESSOR, now, "to replace " + slot.active + " (" + why + ")");
        if (slot.successor != null) {
            return true;
        }
        try {
            slot.successor = launchServing(slot.id, WorkerRole.SUCCESSOR, now);
            log.info(slot.successor + ": started to replace " + slot.active + " (" + why + ")" + slot.successor.bootPriority());
            return true;
        } catch (IOException e) {
            log.error("worker " + slot.id + ": cannot start a JVM: " + e.getMessage());
            return false;
        }
    }

    /** Replaces workers that asked (request limit) or grew (memory), within the surge budget. */
    void startRecycles(long now) {
        int booting = successorsBooting();
        for (Slot slot : slots) {
            Worker w = slot.active;
            if (booting < settings().maxSurge() && w != null && w.recycleWanted() && w.state() == WorkerState.READY
                    && slot.successor == null && now >= slot.recycleNotBefore
                    && startSuccessor(slot, now, "recycle", Metrics.Cause.RECYCLE)) {
                booting++;
            }
        }
    }

    /**
     * Keeps --spares workers booted and waiting; a spare that dies before promotion backs the next off.
     * A new spare waits until each promoted one has settled (READY, and a heartbeat since) and has
     * served --spare-delay: a JVM booting takes a core, and the promoted worker needs it for the
     * connections queued while its slot was empty, and for its first seconds of traffic.
     */
    void replenishSpares(long now) {
        while (spares.size() < settings().spares() && now >= spares.mayBootAt(slots, settings().spareDelay())
                && jvmsBooting() < settings().bootsAtOnce()) {
            try {
                Worker spare = launch(generation.launcher(), 0, WorkerRole.SPARE, now);
                spares.add(spare);
                log.info(spare + ": started as a hot spare" + spare.bootPriority());
            } catch (IOException e) {
                log.error("spare: cannot start a JVM: " + e.getMessage());
                backOffSpares(now);
                return;
            }
        }
    }

    /** Worker JVMs booting now, whatever their role: what {@link Settings#bootsAtOnce} bounds. */
    int jvmsBooting() {
        return (int) workers.stream().filter(Worker::bootsItsJvm).count();
    }

    void backOffSpares(long now) {
        spares.backOff(now);
    }

    /** Starts the class archive's training run: it boots like a spare (no slot) and never serves. */
    Worker launchTrainer(WorkerLauncher launcher, long now) throws IOException {
        return launch(launcher, 0, WorkerRole.TRAINER, now);
    }

    /** Starts a JVM for a slot; with --worker-start trained it records the cache if the archive wants that. */
    private Worker launchServing(int slotId, WorkerRole role, long now) throws IOException {
        boolean records = generation.recorder() != null && generation.archive().wantsRecording();
        Worker worker = launch(records ? generation.recorder() : generation.launcher(), slotId, role, now);
        if (records) {
            worker.records(generation.archive());
            log.info(worker + ": records an AOT cache from the traffic it serves; the JVM writes it as the worker exits");
        }
        return worker;
    }

    /** Starts a worker process with a fresh token and its own request limit. */
    Worker launch(WorkerLauncher launcher, int slotId, WorkerRole role, long now) throws IOException {
        byte[] secret = new byte[16];
        random.nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        Settings s = settings();
        long limit = s.maxRequests() <= 0 ? 0 : s.maxRequests() + jitter(s.maxRequestsJitter());
        // Nobody waits for a successor, a spare or a training run while others serve: it may boot at a lower priority.
        boolean yieldCpu = role != WorkerRole.ACTIVE && readyCount() > 0;
        WorkerProcess process = launcher.launch(new WorkerLauncher.Spec(slotId, token, limit, yieldCpu));
        Worker worker = new Worker(slotId, role, token, process, now, limit);
        admission.expect(process.pid());
        workers.add(worker);
        process.onExit().thenAccept(value -> events.accept(new Event.WorkerExited(worker, value)));
        return worker;
    }

    private long jitter(long max) {
        return max <= 0 ? 0 : random.nextInt((int) Math.min(Integer.MAX_VALUE - 1, max) + 1);
    }

    /**
     * Hands a connected spare the slot's sockets: it only has to open its connectors and say READY.
     * Returns null if there is none (or it could not take them), and the caller starts a JVM.
     */
    private Worker promoteSpare(Slot slot, WorkerRole role, long now, String why) {
        Worker spare = spares.take();
        if (spare == null) {
            return null;
        }
        try {
            WorkerChannel.sendListeners(spare, MessageType.PROMOTE, slot.id, listeners);
        } catch (IOException e) {
            log.warn(spare + ": could not promote it: " + e.getMessage() + "; killing it");
            spare.becomes(WorkerRole.RETIRING);
            spare.kill("could not be promoted");
            return null;
        }
        spare.promoteTo(slot.id, role, now);
        spare.transitionTo(WorkerState.BOOTING, "promoted from spare " + why, log);
        return spare;
    }

    // ---- taking over, retiring, reaping ----

    /** A READY successor takes its slot over, and the worker it replaces retires (null if it was gone). */
    Worker takeOver(Slot slot) {
        Worker old = slot.active;
        if (slot.successor.yieldsCpu()) {
            // Lifted before the old one is told to stop: the clients its drain sends away reconnect
            // at once, and a successor still at the boot priority would lose every accept to the
            // other workers, and be left cold for the next takeover.
            slot.successor.stopYielding("READY, taking over", log);
        }
        slot.active = slot.successor;
        slot.active.becomes(WorkerRole.ACTIVE);
        slot.successor = null;
        slot.restarts++;
        retire(old, "replaced by pid " + slot.active.pid());
        return old;
    }

    /** Takes a successor out of its slot before it took over (a roll aborted): it stops gracefully. */
    void dropSuccessor(Slot slot, String why) {
        Worker successor = slot.successor;
        slot.successor = null;
        retire(successor, why);
    }

    /** Takes a worker out of service: graceful stop; its exit is then expected. */
    void retire(Worker w, String why) {
        if (w != null) {
            w.becomes(WorkerRole.RETIRING);
            w.askToStop(settings().gracefulTimeout(), why, log);
        }
    }

    /** Forgets an exited worker and frees what it held; null if it was reaped already. */
    Exit reap(Worker worker, int exitValue) {
        if (worker.state() == WorkerState.EXITED) {
            return null;
        }
        String cause = worker.killReason() == null ? ExitStatus.describe(exitValue)
                : ExitStatus.describe(exitValue, true) + ": " + worker.killReason();
        worker.transitionTo(WorkerState.EXITED, cause, log);
        admission.forget(worker.pid());
        workers.remove(worker);
        spares.remove(worker);
        Slot slot = slotHolding(worker);
        if (slot != null && slot.active == worker) {
            slot.active = null;
            slot.lastServed = worker.wasReady();
        } else if (slot != null) {
            slot.successor = null;
        }
        return new Exit(worker, worker.role(), slot, exitValue, cause);
    }

    void scheduleRestart(Slot slot, Duration delay, long now) {
        slot.startAt = now + delay.toNanos();
        slot.restarts++;
        log.info("worker " + slot.id + ": restarting in " + delay.toMillis() + " ms");
    }

    /** A recycle's successor failed: the active worker keeps serving, and the next try backs off. */
    void recycleFailed(Slot slot, Worker successor, String reason, long now) {
        Duration delay = slot.backoff.afterExit(Duration.ZERO);
        slot.recycleNotBefore = now + delay.toNanos();
        log.warn(successor + ": failed to boot: " + reason + "; " + slot.active
                + " keeps serving; next try in " + delay.toMillis() + " ms");
    }

    /**
     * Grows (new slots start now) or shrinks (the highest slots' workers drain, their own sockets
     * close) to {@code n} slots; returns the slots removed.
     */
    List<Slot> resize(int n, String why, long now) {
        if (n == slots.size()) {
            return List.of();
        }
        log.info("workers: " + slots.size() + " -> " + n + " (" + why + ")");
        addSlots(n, now);
        List<Slot> removed = new ArrayList<>();
        while (slots.size() > n) {
            Slot gone = slots.remove(slots.size() - 1);
            retire(gone.successor, why);
            retire(gone.active, why);
            listeners.slotRemoved(gone.id);
            removed.add(gone);
        }
        announcedAllReady = false;
        return removed;
    }

    private void addSlots(int n, long now) {
        while (slots.size() < n) {
            slots.add(new Slot(slots.size() + 1, now));
        }
    }

    /** True once each time every slot's worker is READY (after start, and after each resize). */
    boolean newlyAllReady() {
        if (announcedAllReady || slots.isEmpty() || readyCount() != slots.size()) {
            return false;
        }
        announcedAllReady = true;
        return true;
    }

    /**
     * When the next empty slot or spare is due to start, if before {@code next}. While as many JVMs
     * boot as may, none is: the event that ends a boot (READY, parked, an exit) wakes the loop.
     */
    long nextStart(long next) {
        if (jvmsBooting() >= settings().bootsAtOnce()) {
            return next;
        }
        for (Slot slot : slots) {
            if (slot.active == null && slot.successor == null) {
                next = Math.min(next, slot.startAt);
            }
        }
        return spares.size() < settings().spares() ? Math.min(next, spares.mayBootAt(slots, settings().spareDelay())) : next;
    }

    // ---- looking up ----

    Slot slotHolding(Worker w) {
        for (Slot slot : slots) {
            if (slot.holds(w)) {
                return slot;
            }
        }
        return null;
    }

    Slot slotWithId(int id) {
        return id >= 1 && id <= slots.size() ? slots.get(id - 1) : null;
    }

    int readyCount() {
        return (int) slots.stream().filter(s -> s.active != null && s.active.state() == WorkerState.READY).count();
    }

    /** "2/3 workers READY", as the service manager and the log say it. */
    String counts() {
        return readyCount() + "/" + size() + " workers READY";
    }

    int successorsBooting() {
        return (int) slots.stream().filter(s -> s.successor != null).count();
    }
}
