package io.prefork.supervisor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * The slots and every worker process started and not yet reaped: slot holders and retiring workers
 * alike. Confined to the supervisor's loop thread, like everything it holds.
 */
final class WorkerPool {
    private final List<Slot> slots = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    /** Hot spares: booted, connected, no sockets yet. Also in {@link #workers}. */
    private final List<Worker> spares = new ArrayList<>();
    private final Consumer<Event> events;
    private final SecureRandom random = new SecureRandom();

    /** @param events where each worker's exit is posted */
    WorkerPool(int size, long now, Consumer<Event> events, ControlAdmission admission) {
        this.events = events;
        this.admission = admission;
        resize(size, now);
    }

    private final ControlAdmission admission;

    List<Slot> slots() {
        return slots;
    }

    List<Worker> workers() {
        return workers;
    }

    int size() {
        return slots.size();
    }

    List<Worker> spares() {
        return spares;
    }

    /** Starts a hot spare: slot 0 until it is promoted. */
    Worker launchSpare(WorkerLauncher launcher, Supervisor.Settings settings, long now) throws IOException {
        Worker spare = launch(launcher, settings, 0, now);
        spares.add(spare);
        return spare;
    }

    /** Takes a spare that can be promoted now: one whose app already waits for its sockets, if any. */
    Worker takeSpare() {
        Worker best = null;
        for (Worker w : spares) {
            if (w.state() == WorkerState.SPARE && (best == null || (w.parked() && !best.parked()))) {
                best = w;
            }
        }
        spares.remove(best);
        return best;
    }

    /** Starts the class archive's training run: it boots like a spare (slot 0) and never serves. */
    Worker launchTrainer(WorkerLauncher launcher, Supervisor.Settings settings, long now) throws IOException {
        Worker trainer = launch(launcher, settings, 0, now);
        trainer.markTrainer();
        return trainer;
    }

    /** Starts a worker for slot {@code slotId}, with a fresh token and its own request limit. */
    Worker launch(WorkerLauncher launcher, Supervisor.Settings settings, int slotId, long now) throws IOException {
        byte[] secret = new byte[16];
        random.nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        long limit = settings.maxRequests() <= 0 ? 0 : settings.maxRequests() + jitter(settings.maxRequestsJitter());
        WorkerProcess process = launcher.launch(new WorkerLauncher.Spec(slotId, token, limit));
        Worker worker = new Worker(slotId, token, process, now, limit);
        admission.expect(process.pid());
        workers.add(worker);
        process.onExit().thenAccept(value -> events.accept(new Event.WorkerExited(worker, value)));
        return worker;
    }

    private long jitter(long max) {
        return max <= 0 ? 0 : random.nextInt((int) Math.min(Integer.MAX_VALUE - 1, max) + 1);
    }

    /** Returns true if it was a spare. */
    boolean reaped(Worker worker) {
        admission.forget(worker.pid());
        workers.remove(worker);
        return spares.remove(worker);
    }

    /** Grows with empty slots that start at once, or shrinks from the top; returns the slots removed. */
    List<Slot> resize(int n, long now) {
        while (slots.size() < n) {
            slots.add(new Slot(slots.size() + 1, now));
        }
        List<Slot> removed = new ArrayList<>();
        while (slots.size() > n) {
            removed.add(slots.remove(slots.size() - 1));
        }
        return removed;
    }

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

    /** Compares in constant time: the token is a secret. */
    Worker withToken(String token) {
        byte[] given = token.getBytes(StandardCharsets.UTF_8);
        for (Worker w : workers) {
            if (MessageDigest.isEqual(given, w.token().getBytes(StandardCharsets.UTF_8))) {
                return w;
            }
        }
        return null;
    }

    Worker on(WorkerConnection connection) {
        for (Worker w : workers) {
            if (w.connection() == connection) {
                return w;
            }
        }
        return null;
    }

    int readyCount() {
        int n = 0;
        for (Slot slot : slots) {
            n += slot.active != null && slot.active.state() == WorkerState.READY ? 1 : 0;
        }
        return n;
    }

    int successorsBooting() {
        int n = 0;
        for (Slot slot : slots) {
            n += slot.successor == null ? 0 : 1;
        }
        return n;
    }

    private WorkerRole role(Worker w, Slot slot) {
        if (w.isTrainer()) {
            return WorkerRole.TRAINER;
        }
        if (spares.contains(w)) {
            return WorkerRole.SPARE;
        }
        return slot == null ? WorkerRole.RETIRING : slot.successor == w ? WorkerRole.SUCCESSOR : WorkerRole.ACTIVE;
    }

    List<StatusReport.Row> status(long now) {
        List<StatusReport.Row> rows = new ArrayList<>();
        for (Worker w : workers) {
            Slot slot = slotHolding(w);
            rows.add(new StatusReport.Row(w.id(), w.pid(), w.state(), role(w, slot).label(), Duration.ofNanos(now - w.startedAt()),
                    w.requests(), slot == null ? 0 : slot.restarts, w.process().rssBytes()));
        }
        return rows;
    }
}
