package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The supervisor's event loop. One thread calls {@link #run()} (or {@link #step} in tests) and is
 * the only one that reads or changes the pool, the roll and the stop state; everyone else
 * {@link #post}s an {@link Event}. Beside it: {@link WorkerPool} (who runs where),
 * {@link HealthChecks} (timed checks), {@link Rolls} (reloads and rolling restarts) and
 * {@link Shutdown} (the stop escalation).
 */
public final class Supervisor {
    /** How the supervisor behaves; the CLI fills it, tests shrink the times. */
    public record Settings(int workers, Duration bootTimeout, Duration gracefulTimeout, Duration fastStopTimeout,
                           int maxBootFailures, Duration timeout, int maxSurge, long maxRequests,
                           long maxRequestsJitter, long maxRssBytes, int spares, Duration lameDuck,
                           int maxRestarts, Duration restartWindow) {
        public static Settings defaults(int workers) {
            return new Settings(workers, Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(1), 5,
                    Duration.ofSeconds(30), 1, 0, 0, 0, 0, Duration.ZERO, 0, Duration.ofSeconds(60));
        }

        public Settings withTimeouts(Duration boot, Duration graceful, Duration heartbeat) {
            return new Settings(workers, boot, graceful, fastStopTimeout, maxBootFailures, heartbeat, maxSurge,
                    maxRequests, maxRequestsJitter, maxRssBytes, spares, lameDuck, maxRestarts, restartWindow);
        }

        public Settings withRecycling(int surge, long requests, long jitter, long rssBytes) {
            return new Settings(workers, bootTimeout, gracefulTimeout, fastStopTimeout, maxBootFailures, timeout, surge,
                    requests, jitter, rssBytes, spares, lameDuck, maxRestarts, restartWindow);
        }

        public Settings withSpares(int n) {
            return new Settings(workers, bootTimeout, gracefulTimeout, fastStopTimeout, maxBootFailures, timeout, maxSurge,
                    maxRequests, maxRequestsJitter, maxRssBytes, n, lameDuck, maxRestarts, restartWindow);
        }

        /** --max-restarts / --restart-window: stop if more unplanned restarts than {@code max} happen in {@code window}. */
        public Settings withRestartBudget(int max, Duration window) {
            return new Settings(workers, bootTimeout, gracefulTimeout, fastStopTimeout, maxBootFailures, timeout, maxSurge,
                    maxRequests, maxRequestsJitter, maxRssBytes, spares, lameDuck, max, window);
        }

        /** --lame-duck: after TERM, stay unready but serving this long before the graceful stop. */
        public Settings withLameDuck(Duration d) {
            return new Settings(workers, bootTimeout, gracefulTimeout, fastStopTimeout, maxBootFailures, timeout, maxSurge,
                    maxRequests, maxRequestsJitter, maxRssBytes, spares, d, maxRestarts, restartWindow);
        }
    }

    /**
     * What the admin endpoint's /livez and /readyz read without asking the loop (so a busy loop
     * never makes a probe wait): when the loop last stepped, how many workers are READY, and
     * whether a stop (or its lame-duck period) has begun. Published by the loop after each step.
     */
    public record Readiness(long steppedAt, int ready, int slots, boolean stopping) {
    }

    /** A listener as the workers get it: the fd to pass and the address to tell. */
    public record Handoff(String address, int fd) {
    }

    /** Which listening sockets each worker slot gets (the same for all, or its own with reuseport). */
    public interface ListenerSource {
        List<Handoff> forSlot(int slotId) throws IOException;

        /** The slot is gone; sockets that were only its own may close. */
        default void slotRemoved(int slotId) {
        }

        /** The TCP listeners' accept queues, for /metrics. */
        default List<Metrics.ListenQueue> queues() {
            return List.of();
        }

        /** Sockets that belong to one slot alone (reuseport), by slot, slot 1's excepted: they are {@code forSlot(1)}. */
        default java.util.SortedMap<Integer, List<Handoff>> ownSockets() {
            return new java.util.TreeMap<>();
        }
    }

    /** Re-reads the configuration on a reload: the command line as given, plus the config file. */
    public interface Reloader {
        Generation reload() throws UsageException;
    }

    /** The log file, if logging goes to one: reopened on USR1. */
    public interface LogFile {
        void reopen() throws IOException;
    }

    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ListenerSource listeners;
    private final LongSupplier clock;
    private final Log log;
    private final BlockingQueue<Event> events;
    private final WorkerPool pool;
    private final HealthChecks health;
    private final Shutdown shutdown;
    private Settings settings;
    private WorkerLauncher launcher;
    private ClassArchive archive;
    private WorkerLauncher trainerLauncher;
    /** The run that trains the class archive, while it runs. */
    private Worker trainer;
    private LogFile logFile;

    private final Rolls rolls;
    private final Upgrades upgrades;
    private Runnable handOverHook = () -> { };
    private boolean done;
    private int consecutiveBootFailures;
    private int exitCode = ExitCodes.OK;
    private String failure;
    private boolean announcedAllReady;
    private final Backoff spareBackoff = Backoff.standard();
    private long sparesNotBefore;

    private final Metrics metrics;
    private final RestartBudget restartBudget = new RestartBudget();
    private volatile Readiness readiness;
    private final ServiceNotices notices = new ServiceNotices();
    /** When the lame-duck period after TERM ends; -1 when there is none under way. */
    private long lameDuckEndsAt = -1;

    public Supervisor(Settings settings, List<Handoff> listeners, WorkerLauncher launcher, LongSupplier clock, Log log) {
        this(settings, slotId -> listeners, launcher, clock, log, new LinkedBlockingQueue<>(), new ControlAdmission());
    }

    /**
     * @param events where signal handlers and control readers already post; made before the
     *               supervisor so nothing that arrives during start-up is lost
     * @param admission shared with the control socket: the loop says which pids may connect
     */
    Supervisor(Settings settings, ListenerSource listeners, WorkerLauncher launcher, LongSupplier clock, Log log,
               BlockingQueue<Event> events, ControlAdmission admission) {
        this.events = events;
        this.settings = settings;
        this.listeners = listeners;
        this.launcher = launcher;
        this.clock = clock;
        this.log = log;
        this.pool = new WorkerPool(settings.workers(), clock.getAsLong(), events::add, admission);
        this.health = new HealthChecks(log);
        this.shutdown = new Shutdown(log);
        this.metrics = new Metrics(clock.getAsLong());
        this.readiness = new Readiness(clock.getAsLong(), 0, settings.workers(), false);
        this.rolls = new Rolls(pool, new Rolls.Loop() {
            @Override
            public Generation current() {
                // Qualified on purpose: in this constructor, bare names would be its parameters.
                return new Generation(Supervisor.this.settings, Supervisor.this.launcher, Supervisor.this.archive,
                        Supervisor.this.trainerLauncher);
            }

            @Override
            public void apply(Generation generation) {
                useGeneration(generation);
            }

            @Override
            public boolean startSuccessor(Slot slot, long now, String why) {
                return Supervisor.this.startSuccessor(slot, now, why);
            }

            @Override
            public void retire(Worker worker, String why) {
                Supervisor.this.retire(worker, why);
            }

            @Override
            public void resize(int n, String why) {
                Supervisor.this.resize(n, why);
            }

            @Override
            public void reloadStarted() {
                Supervisor.this.notices.reloadStarted(Supervisor.this.clock.getAsLong(), Supervisor.this.workerCounts());
            }

            @Override
            public void reloadEnded(String outcome) {
                Supervisor.this.reloadEnded(outcome);
            }
        }, log);
        this.upgrades = new Upgrades(new Upgrades.Loop() {
            @Override
            public Upgrades.Sockets listeners() throws IOException {
                return new Upgrades.Sockets(Supervisor.this.listeners.forSlot(1), Supervisor.this.listeners.ownSockets());
            }

            @Override
            public void handOver(long newPid) {
                Supervisor.this.notices.mainPid(newPid);
                Supervisor.this.handOverHook.run();
                Supervisor.this.stop(false, "upgraded: pid " + newPid + " took over");
            }
        }, log);
    }

    /**
     * Set before {@link #run()} to allow upgrades: how to start the new supervisor, and what to let go
     * of (sockets' files, the admin endpoints) when it takes over.
     */
    void setUpgrades(UpgradeStarter starter, Runnable handOverHook) {
        upgrades.setStarter(starter);
        this.handOverHook = handOverHook;
    }

    /** Set before {@link #run()}: without one, a reload restarts the workers with the same configuration. */
    public void setReloader(Reloader reloader) {
        rolls.setReloader(reloader);
    }

    public void setLogFile(LogFile logFile) {
        this.logFile = logFile;
    }

    /** Set before {@link #run()} when a service manager listens (systemd's NOTIFY_SOCKET). */
    void setServiceManager(ServiceManager manager) {
        notices.use(manager);
    }

    /** Thread-safe: the loop's latest published state, for health probes. */
    public Readiness readiness() {
        return readiness;
    }

    /** Set before {@link #run()} for --worker-start fast: the archive, and how to start its training run. */
    public void useGeneration(Generation generation) {
        settings = generation.settings();
        launcher = generation.launcher();
        archive = generation.archive();
        trainerLauncher = generation.trainer();
    }

    /** Thread-safe: the only way in from signal handlers, exit callbacks and control readers. */
    public void post(Event event) {
        events.add(event);
    }

    /** Runs until every worker is gone after a stop; returns the process exit code. */
    public int run() throws InterruptedException {
        while (step(waitNanos())) {
            // each step handles every queued event, then does the timed housekeeping
        }
        return exitCode;
    }

    /** Waits up to {@code maxWaitNanos} for an event, handles all queued ones, then housekeeping. */
    boolean step(long maxWaitNanos) throws InterruptedException {
        Event event = maxWaitNanos > 0 ? events.poll(maxWaitNanos, TimeUnit.NANOSECONDS) : events.poll();
        while (event != null) {
            handle(event);
            event = events.poll();
        }
        long now = clock.getAsLong();
        if (lameDuckEndsAt >= 0 && now >= lameDuckEndsAt && !shutdown.started()) {
            stop(false, "SIGTERM, after the --lame-duck period");
        }
        if (shutdown.started()) {
            if (!done && shutdown.tick(now, pool.workers())) {
                done = true;
                exitCode = shutdown.unreaped() ? ExitCodes.RUNTIME : exitCode;
            }
        } else {
            health.run(now, settings, pool);
            startDueWorkers(now);
            rolls.advance(now);
            startRecycles(now);
            replenishSpares(now);
            trainArchive(now);
        }
        upgrades.tick(now);
        metrics.observe(now, pool.readyCount());
        notices.tick(now, workerCounts(), pool.readyCount(), stopping(), !pool.workers().isEmpty());
        readiness = new Readiness(now, pool.readyCount(), pool.size(), stopping());
        return !done;
    }

    private boolean stopping() {
        return shutdown.started() || lameDuckEndsAt >= 0;
    }

    private String workerCounts() {
        return pool.readyCount() + "/" + pool.size() + " workers READY";
    }

    private void reloadEnded(String outcome) {
        if (outcome != null) {
            metrics.roll(outcome);
        }
        notices.reloadEnded(outcome, workerCounts(), stopping());
    }

    private void handle(Event event) {
        // Java 17 has no pattern switch; the sealed interface keeps this list complete.
        if (event instanceof Event.SignalReceived s) {
            onSignal(s.signal());
        } else if (event instanceof Event.WorkerExited e) {
            onWorkerExit(e.worker(), e.exitValue());
        } else if (event instanceof Event.Hello h) {
            onHello(h.connection(), h.token());
        } else if (event instanceof Event.Message m) {
            onMessage(m.connection(), m.message());
        } else if (event instanceof Event.ConnectionClosed c) {
            c.connection().close();
        } else if (event instanceof Event.UpgradeConnected) {
            upgrades.connected();
        } else if (event instanceof Event.UpgradeMessage u) {
            upgrades.message(u.message());
        } else if (event instanceof Event.UpgradeEnded u) {
            upgrades.ended(u.why());
        } else if (event instanceof Event.AdminRequest a) {
            AdminReply reply = onAdmin(a.command(), a.args(), a.reply());
            if (reply != null) {
                a.reply().complete(reply);
            }
        }
    }

    /** Maps each signal to its action; the README's Signals table lists the same, in the same order. */
    private void onSignal(HandledSignal signal) {
        if (stopping() && !signal.actsWhileStopping()) {
            log.warn("ignoring " + signal + ": the supervisor is stopping");
            return;
        }
        switch (signal) {
            case TERM -> onTerm();
            case INT -> stop(true, signal.toString());
            case HUP -> rolls.reload(signal.toString(), null);
            case TTIN -> resize(pool.size() + 1, signal.toString());
            case TTOU -> {
                if (pool.size() <= 1) {
                    log.warn(signal + ": already at " + pool.size() + " worker(s), and the floor is 1");
                } else {
                    resize(pool.size() - 1, signal.toString());
                }
            }
            case WINCH -> resize(0, signal.toString());
            case USR1 -> reopenLogs();
            case USR2 -> upgrade(signal.toString(), null);
        }
    }

    /**
     * Graceful stop; a second TERM makes it fast. With --lame-duck, the first TERM only turns
     * /readyz to 503 (and tells systemd STOPPING) while the workers go on serving, so a load
     * balancer can take the pod out of rotation before anything closes.
     */
    private void onTerm() {
        if (stopping()) {
            stop(true, "second SIGTERM");
        } else if (!settings.lameDuck().isZero()) {
            lameDuckEndsAt = clock.getAsLong() + settings.lameDuck().toNanos();
            log.info("SIGTERM: lame duck for " + HealthChecks.seconds(settings.lameDuck().toMillis())
                    + " s: /readyz answers 503, workers keep serving; then a graceful stop");
            notices.stopping(workerCounts() + ", lame duck");
        } else {
            stop(false, "SIGTERM");
        }
    }

    /** A new supervisor, from the scripts and jars on disk now, takes over once its workers are READY. */
    private void upgrade(String why, CompletableFuture<AdminReply> reply) {
        upgrades.request(why, reply, clock.getAsLong(), settings.bootTimeout().plusSeconds(30));
    }

    // ---- starting, replacing and losing workers ----

    private void startDueWorkers(long now) {
        for (Slot slot : pool.slots()) {
            if (slot.active == null && slot.successor == null && now >= slot.startAt) {
                Worker spare = promoteSpare(slot, now, "worker " + slot.id + " had none");
                if (spare != null) {
                    slot.active = spare;
                    continue;
                }
                try {
                    slot.active = pool.launch(launcher, settings, slot.id, now);
                    log.info(slot.active + ": started, " + WorkerState.STARTING);
                } catch (IOException e) {
                    log.error("worker " + slot.id + ": cannot start a JVM: " + e.getMessage());
                    if (!countBootFailure("cannot start a JVM: " + e.getMessage())) {
                        scheduleRestart(slot, slot.backoff.afterExit(Duration.ZERO), now);
                    }
                }
            }
        }
    }

    /** Boots a second worker for the slot; it takes over when READY (rolling restart, recycle). */
    private boolean startSuccessor(Slot slot, long now, String why) {
        Worker spare = promoteSpare(slot, now, "to replace " + slot.active + " (" + why + ")");
        if (spare != null) {
            slot.successor = spare;
            return true;
        }
        try {
            slot.successor = pool.launch(launcher, settings, slot.id, now);
            log.info(slot.successor + ": started to replace " + slot.active + " (" + why + ")");
            return true;
        } catch (IOException e) {
            log.error("worker " + slot.id + ": cannot start a JVM: " + e.getMessage());
            return false;
        }
    }

    /**
     * Hands a connected spare the slot's sockets: it only has to open its connectors and say READY.
     * Returns null if there is none (or it could not take them), and the caller starts a JVM.
     */
    private Worker promoteSpare(Slot slot, long now, String why) {
        Worker spare = pool.takeSpare();
        if (spare == null) {
            return null;
        }
        try {
            sendListeners(spare, MessageType.PROMOTE, slot.id);
        } catch (IOException e) {
            log.warn(spare + ": could not promote it: " + e.getMessage() + "; killing it");
            spare.kill("could not be promoted");
            return null;
        }
        spare.promoteTo(slot.id, now);
        spare.transitionTo(WorkerState.BOOTING, "promoted from spare " + why, log);
        return spare;
    }

    /** FDS at the handshake; PROMOTE, which also names the slot, for a spare. */
    private void sendListeners(Worker worker, MessageType type, int slotId) throws IOException {
        List<Handoff> handoffs = listeners.forSlot(slotId);
        int[] fds = handoffs.stream().mapToInt(Handoff::fd).toArray();
        List<String> args = new java.util.ArrayList<>();
        if (type == MessageType.PROMOTE) {
            args.add(Integer.toString(slotId));
        }
        handoffs.forEach(h -> args.add(h.address()));
        worker.connection().sendWithFds(new ControlMessage(type, args), fds);
    }

    /** Keeps --spares workers booted and waiting; a spare that dies before promotion backs the next off. */
    private void replenishSpares(long now) {
        while (pool.spares().size() < settings.spares() && now >= sparesNotBefore) {
            try {
                Worker spare = pool.launchSpare(launcher, settings, now);
                log.info(spare + ": started as a hot spare");
            } catch (IOException e) {
                log.error("spare: cannot start a JVM: " + e.getMessage());
                sparesNotBefore = now + spareBackoff.afterExit(Duration.ZERO).toNanos();
                return;
            }
        }
    }

    /**
     * --worker-start fast: if the archive is missing, one extra worker boots as a spare with the
     * training option, is stopped once parked, and writes the archive as it exits.
     */
    private void trainArchive(long now) {
        if (trainer != null && !trainer.parked() && !trainer.killSent()
                && now - trainer.startedAt() >= settings.bootTimeout().toNanos()) {
            log.warn(trainer + ": the class archive's training run did not reach Prefork.listeners() within"
                    + " --boot-timeout; workers start without an archive");
            trainer.kill("training run did not park");
            archive.failed();
        }
        if (archive == null || trainer != null || archive.state() != ClassArchive.State.MISSING) {
            return;
        }
        try {
            trainer = pool.launchTrainer(trainerLauncher, settings, now);
            archive.trainingStarted();
            log.info(trainer + ": started to train the class archive " + archive.file());
        } catch (IOException e) {
            log.warn("cannot start the class archive's training run: " + e.getMessage());
            archive.failed();
        }
    }

    private void trainerExited(int exitValue, String cause) {
        trainer = null;
        String refusal = archive.trainingEnded(exitValue, cause);
        if (refusal == null) {
            log.info("class archive ready: " + archive.file() + "; workers started from now on use it");
        } else {
            log.warn("class archive training failed: " + refusal + "; workers start without an archive");
        }
    }

    private void promote(Slot slot, Worker successor) {
        Worker old = slot.active;
        slot.active = successor;
        slot.successor = null;
        slot.restarts++;
        if (old != null) {
            metrics.restart(rolls.isBooting(slot.id) ? Metrics.Cause.RELOAD : Metrics.Cause.RECYCLE, "");
            retire(old, "replaced by pid " + successor.pid());
        }
        rolls.replaced(slot.id);
    }

    private void onWorkerExit(Worker worker, int exitValue) {
        if (worker.state() == WorkerState.EXITED) {
            return;
        }
        long now = clock.getAsLong();
        String cause = worker.killReason() == null ? ExitStatus.describe(exitValue)
                : ExitStatus.describe(exitValue, true) + ": " + worker.killReason();
        worker.transitionTo(WorkerState.EXITED, cause, log);
        if (pool.reaped(worker)) {
            spareExited(worker, cause, now);
            return;
        }
        if (worker == trainer) {
            trainerExited(exitValue, cause);
            return;
        }
        Slot slot = pool.slotHolding(worker);
        if (slot == null || shutdown.started()) {
            return; // retired, or we are stopping: an exit we asked for
        }
        String reason = worker.bootError() != null ? worker.bootError() : cause;
        Metrics.Cause kind = Metrics.classify(worker, exitValue);
        metrics.restart(kind, Metrics.detail(kind, exitValue));
        if (overRestartBudget(now, worker.wasReady() ? cause : "failed to boot: " + reason)) {
            return;
        }
        if (slot.successor == worker) {
            slot.successor = null;
            successorFailed(slot, worker, reason, now);
            return;
        }
        slot.active = null;
        if (!worker.wasReady()) {
            log.warn(worker + ": failed to boot: " + reason);
            if (countBootFailure(reason)) {
                return;
            }
        }
        if (slot.successor == null) {
            Duration served = worker.wasReady() ? Duration.ofNanos(now - worker.readyAt()) : Duration.ZERO;
            scheduleRestart(slot, slot.backoff.afterExit(served), now);
        }
    }

    private void spareExited(Worker spare, String cause, long now) {
        if (shutdown.started() || spare.state() == WorkerState.DRAINING) {
            return;
        }
        String reason = spare.bootError() != null ? spare.bootError() : cause;
        log.warn(spare + ": failed before it was promoted: " + reason);
        if (!countBootFailure(reason)) {
            sparesNotBefore = now + spareBackoff.afterExit(Duration.ZERO).toNanos();
        }
    }

    private void successorFailed(Slot slot, Worker successor, String reason, long now) {
        if (rolls.isBooting(slot.id)) {
            rolls.abort(successor + " failed to boot: " + reason);
        } else {
            Duration delay = slot.backoff.afterExit(Duration.ZERO);
            slot.recycleNotBefore = now + delay.toNanos();
            log.warn(successor + ": failed to boot: " + reason + "; " + slot.active
                    + " keeps serving; next try in " + delay.toMillis() + " ms");
        }
        if (slot.active == null) {
            scheduleRestart(slot, slot.backoff.afterExit(Duration.ZERO), now);
        }
    }

    private void scheduleRestart(Slot slot, Duration delay, long now) {
        slot.startAt = now + delay.toNanos();
        slot.restarts++;
        log.info("worker " + slot.id + ": restarting in " + delay.toMillis() + " ms");
    }

    /** Counts an unplanned restart; returns true when it made the supervisor give up. */
    private boolean overRestartBudget(long now, String cause) {
        String summary = restartBudget.record(now, cause, settings.maxRestarts(), settings.restartWindow());
        if (summary == null) {
            return false;
        }
        failure = summary;
        log.error(summary + "; stopping");
        exitCode = ExitCodes.TOO_MANY_RESTARTS;
        stop(false, "too many restarts");
        return true;
    }

    /** Returns true when this failure made the supervisor give up. */
    private boolean countBootFailure(String reason) {
        consecutiveBootFailures++;
        if (consecutiveBootFailures < settings.maxBootFailures()) {
            return false;
        }
        failure = "workers failed to boot " + consecutiveBootFailures + " times in a row; last: " + reason;
        log.error(failure + "; stopping");
        exitCode = ExitCodes.WORKERS_FAILED_TO_BOOT;
        stop(true, "boot failures");
        return true;
    }

    /** Replaces workers that asked (request limit) or grew (memory), within the surge budget. */
    private void startRecycles(long now) {
        if (rolls.active()) {
            return; // the roll replaces every worker anyway
        }
        int booting = pool.successorsBooting();
        for (Slot slot : pool.slots()) {
            Worker w = slot.active;
            if (booting < settings.maxSurge() && w != null && w.recycleWanted() && w.state() == WorkerState.READY
                    && slot.successor == null && now >= slot.recycleNotBefore
                    && startSuccessor(slot, now, "recycle")) {
                booting++;
            }
        }
    }

    // ---- resizing ----

    /** Grows (new slots start now) or shrinks (the highest slots' workers drain) to {@code n} slots. */
    private void resize(int n, String why) {
        if (n == pool.size()) {
            return;
        }
        log.info("workers: " + pool.size() + " -> " + n + " (" + why + ")");
        for (Slot gone : pool.resize(n, clock.getAsLong())) {
            rolls.forget(gone.id);
            retire(gone.successor, why);
            retire(gone.active, why);
            listeners.slotRemoved(gone.id);
        }
        announcedAllReady = false;
    }

    /** Takes a worker out of service: graceful stop; its exit is then expected. */
    private void retire(Worker w, String why) {
        if (w != null) {
            w.askToStop(settings.gracefulTimeout(), why, log);
        }
    }

    // ---- the control channel ----

    private void onHello(WorkerConnection connection, String token) {
        Worker worker = pool.withToken(token);
        String refusal = worker == null ? "unknown token"
                : worker.state() != WorkerState.STARTING ? "token already used"
                : worker.pid() != connection.peerPid() ? "token belongs to pid " + worker.pid()
                : shutdown.started() ? "shutting down"
                : null;
        if (refusal != null) {
            log.warn("control: refused a connection from pid " + connection.peerPid()
                    + " (uid " + connection.peerUid() + "): " + refusal);
            connection.close();
            return;
        }
        worker.attach(connection);
        try {
            if (worker.isSpare()) {
                connection.send(ControlMessage.of(MessageType.SPARE));
                worker.transitionTo(WorkerState.SPARE, "boots without sockets until promoted", log);
                return;
            }
            sendListeners(worker, MessageType.FDS, worker.id());
        } catch (IOException e) {
            log.warn(worker + ": could not send the listeners: " + e.getMessage() + "; killing it");
            connection.close();
            worker.kill("could not send the listeners");
            return;
        }
        worker.transitionTo(WorkerState.BOOTING, "sent its listener(s)", log);
    }

    private void onMessage(WorkerConnection connection, ControlMessage message) {
        Worker worker = pool.on(connection);
        if (worker == null) {
            return; // the worker already exited; its last words do not matter
        }
        long now = clock.getAsLong();
        try {
            switch (message.type()) {
                case READY -> onReady(worker, now);
                case HEARTBEAT -> worker.heartbeat(now, Long.parseLong(message.arg(0)));
                case RECYCLE -> {
                    worker.heartbeat(now, Long.parseLong(message.arg(0)));
                    log.info(worker + ": served " + worker.requests() + " requests (limit " + worker.requestLimit()
                            + "); recycling once a replacement is READY");
                    worker.wantRecycle();
                }
                case BOOT_ERROR -> worker.setBootError(message.arg(0));
                case PARKED -> {
                    worker.markParked();
                    log.info(worker + ": parked, its app booted and waits for sockets ("
                            + Duration.ofNanos(now - worker.startedAt()).toMillis() + " ms after start)");
                    if (worker == trainer) {
                        worker.askToStop(settings.gracefulTimeout(), "class archive training done", log);
                    }
                }
                default -> log.warn(worker + ": unexpected control message " + message.type());
            }
        } catch (IOException | NumberFormatException e) {
            log.warn(worker + ": malformed " + message.type() + ": " + e.getMessage());
        }
    }

    private void onReady(Worker worker, long now) {
        if (worker.state() != WorkerState.BOOTING) {
            return;
        }
        worker.markReady(now);
        worker.transitionTo(WorkerState.READY, "ready in " + Duration.ofNanos(now - worker.startedAt()).toMillis() + " ms", log);
        consecutiveBootFailures = 0;
        Slot slot = pool.slotHolding(worker);
        if (slot != null && slot.successor == worker) {
            promote(slot, worker);
        }
        if (!announcedAllReady && pool.size() > 0 && pool.readyCount() == pool.size()) {
            announcedAllReady = true;
            log.info("all " + pool.size() + " workers are READY");
            notices.allReady(workerCounts(), stopping());
        }
    }

    private void reopenLogs() {
        if (logFile == null) {
            log.info("SIGUSR1: logs go to stderr (no --log-file); nothing to reopen");
            return;
        }
        try {
            logFile.reopen();
            log.info("SIGUSR1: reopened the log file");
        } catch (IOException e) {
            log.error("SIGUSR1: cannot reopen the log file: " + e.getMessage());
            return;
        }
        for (Worker w : pool.workers()) {
            if (w.connection() != null) {
                try {
                    w.connection().send(ControlMessage.of(MessageType.REOPEN));
                } catch (IOException e) {
                    log.warn(w + ": could not send REOPEN: " + e.getMessage());
                }
            }
        }
    }

    // ---- admin commands ----

    /** Returns the reply, or null when a later event completes it (a reload answers when its roll ends). */
    private AdminReply onAdmin(String word, List<String> args, CompletableFuture<AdminReply> reply) {
        AdminCommand command = AdminCommand.parse(word).orElse(null);
        if (command == null) {
            return AdminReply.error("unknown command '" + word + "'; commands: " + AdminCommand.usage(", "));
        }
        if (stopping() && command.refusedWhileStopping()) {
            return AdminReply.error("the supervisor is stopping");
        }
        return switch (command) {
            case STATUS -> {
                List<StatusReport.Row> rows = pool.status(clock.getAsLong());
                yield AdminReply.ok(args.contains("--json") ? StatusReport.json(rows) : StatusReport.table(rows));
            }
            case METRICS -> AdminReply.ok(renderMetrics());
            case RELOAD -> {
                rolls.reload("ctl reload", reply);
                yield null;
            }
            case UPGRADE -> {
                upgrade("ctl upgrade", reply);
                yield null;
            }
            case SCALE -> scale(args);
            case STOP -> {
                stop(args.contains("--fast"), "ctl stop");
                yield AdminReply.ok(args.contains("--fast") ? "fast stop" : "graceful stop");
            }
        };
    }

    private AdminReply scale(List<String> args) {
        try {
            int n = Integer.parseInt(args.isEmpty() ? "" : args.get(0));
            if (n < 1 || n > 1024) {
                return AdminReply.error("scale needs a number of workers from 1 to 1024, got " + n);
            }
            int from = pool.size();
            resize(n, "ctl scale");
            return AdminReply.ok("workers: " + from + " -> " + n);
        } catch (NumberFormatException e) {
            return AdminReply.error("scale needs a number of workers from 1 to 1024");
        }
    }

    // ---- stopping ----

    private void stop(boolean fast, String why) {
        if (lameDuckEndsAt < 0 && !shutdown.started() && !upgrades.handedOver()) {
            notices.stopping(workerCounts() + ", stopping");  // not after a hand-over: the service goes on
        }
        upgrades.cancel();
        rolls.cancel();
        shutdown.request(fast, why, settings, pool.workers(), clock.getAsLong());
    }

    private String renderMetrics() {
        long now = clock.getAsLong();
        metrics.observe(now, pool.readyCount());
        java.util.Map<WorkerState, Integer> byState = new java.util.EnumMap<>(WorkerState.class);
        for (Worker w : pool.workers()) {
            byState.merge(w.state(), 1, Integer::sum);
        }
        List<StatusReport.Row> rows = pool.status(now);
        return metrics.render(now, pool.size(), byState, rows, listeners.queues());
    }

    /** How long the loop may sleep before a timer is due. */
    private long waitNanos() {
        long now = clock.getAsLong();
        long next = now + MAX_WAIT_NANOS;
        if (shutdown.started()) {
            next = Math.min(next, shutdown.nextDue());
        } else {
            for (Slot slot : pool.slots()) {
                if (slot.active == null && slot.successor == null) {
                    next = Math.min(next, slot.startAt);
                }
            }
            next = HealthChecks.nextDue(next, settings, pool.workers());
            if (pool.spares().size() < settings.spares()) {
                next = Math.min(next, sparesNotBefore);
            }
            if (lameDuckEndsAt >= 0) {
                next = Math.min(next, lameDuckEndsAt);
            }
        }
        next = notices.nextDue(next, pool.readyCount());
        next = Math.min(next, upgrades.nextDue());
        return Math.max(1, next - now);
    }

    /** Why the supervisor gave up, or null. */
    public String failure() {
        return failure;
    }

    List<Worker> workers() {
        return List.copyOf(pool.workers());
    }

    int slotCount() {
        return pool.size();
    }

    int readyCount() {
        return pool.readyCount();
    }
}
