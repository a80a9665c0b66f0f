package io.prefork.supervisor;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The supervisor's event loop. One thread calls {@link #run()} (or {@link #step} in tests) and is
 * the only one that reads or changes the pool, the roll and the stop state; everyone else
 * {@link #post}s an {@link Event}. Beside it: {@link WorkerPool} (who runs where, and their
 * lifecycle), {@link WorkerChannel} (the control protocol), {@link HealthChecks}, {@link Reloads}
 * (reloads and rolling restarts), {@link Handover} (upgrades), {@link FailurePolicy} and
 * {@link Shutdown} (the stop escalation).
 */
public final class Supervisor {
    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ListenerSource listeners;
    private final LongSupplier clock;
    private final Log log;
    private final BlockingQueue<Event> events;
    private final WorkerPool pool;
    private final WorkerChannel channel;
    private final HealthChecks health;
    private final Shutdown shutdown;
    private final FailurePolicy failures;
    private final ArchiveTraining training;
    private final Reloads reloads;
    private final Handover handover;
    private final Metrics metrics;
    private final ServiceNotices notices = new ServiceNotices();
    private Runnable handOverHook = () -> { };
    private ReopenableLog logFile;
    private Phase phase = Phase.RUNNING;
    /** When the lame-duck period after TERM ends, in {@link Phase#LAME_DUCK}. */
    private long lameDuckEndsAt;
    private volatile Readiness readiness;

    /** For tests: fixed listeners, and what runs off the loop runs at once. */
    public Supervisor(Settings settings, List<Handoff> listeners, WorkerLauncher launcher, LongSupplier clock, Log log) {
        this(new Generation(settings, launcher), slotId -> listeners, clock, log, new LinkedBlockingQueue<>(),
                new ControlAdmission(), Runnable::run);
    }

    /**
     * @param events    where signal handlers and control readers already post; made before the
     *                  supervisor so nothing that arrives during start-up is lost
     * @param admission shared with the control socket: the loop says which pids may connect
     * @param offLoop   runs what would block the loop (a JVM's check of a class archive), and posts the result
     */
    public Supervisor(Generation first, ListenerSource listeners, LongSupplier clock, Log log,
                      BlockingQueue<Event> events, ControlAdmission admission, Executor offLoop) {
        this.events = events;
        this.listeners = listeners;
        this.clock = clock;
        this.log = log;
        long now = clock.getAsLong();
        this.pool = new WorkerPool(first, now, events::add, admission, listeners, log);
        this.channel = new WorkerChannel(pool, listeners, log);
        this.shutdown = new Shutdown(log);
        this.training = new ArchiveTraining(pool, log, offLoop, events::add);
        this.metrics = new Metrics(now);
        this.health = new HealthChecks(log, new StallWatch(log, listeners, metrics));
        this.readiness = new Readiness(now, 0, pool.size(), false);
        this.reloads = new Reloads(pool, notices, metrics, () -> phase.stopping(), log, offLoop, events::add);
        this.handover = new Handover(listeners, log);
        this.failures = new FailurePolicy(pool, reloads, metrics, log);
    }

    /** Set before {@link #run()} to allow upgrades, and what to let go of (sockets' files, admin endpoints) on hand-over. */
    public void setUpgrades(Handover.Starter starter, Runnable handOverHook) {
        handover.setStarter(starter);
        this.handOverHook = handOverHook;
    }

    /** Set before {@link #run()}: without one, a reload restarts the workers with the same configuration. */
    public void setReloader(Reloader reloader) {
        reloads.setReloader(reloader);
    }

    public void setLogFile(ReopenableLog logFile) {
        this.logFile = logFile;
    }

    /** Set before {@link #run()} when a service manager listens (systemd's NOTIFY_SOCKET). */
    public void setServiceManager(ServiceManager manager) {
        notices.use(manager);
    }

    /** Thread-safe: the loop's latest published state, for health probes. */
    public Readiness readiness() {
        return readiness;
    }

    /** Thread-safe: the only way in from signal handlers, exit callbacks and control readers. */
    public void post(Event event) {
        events.add(event);
    }

    /** Runs until every worker is gone after a stop; returns the process exit code. */
    public int run() throws InterruptedException {
        while (step(waitNanos())) {
            // each step handles every queued event, then does what the phase calls for
        }
        return failures.exitCode();
    }

    /** Waits up to {@code maxWaitNanos} for an event, handles all queued ones, then the timed work. */
    boolean step(long maxWaitNanos) throws InterruptedException {
        Event event = maxWaitNanos > 0 ? events.poll(maxWaitNanos, TimeUnit.NANOSECONDS) : events.poll();
        for (; event != null; event = events.poll()) {
            handle(event);
        }
        long now = clock.getAsLong();
        if (phase == Phase.LAME_DUCK && now >= lameDuckEndsAt) {
            stop(false, "SIGTERM, after the --lame-duck period");
        }
        switch (phase) {
            case RUNNING, LAME_DUCK -> {
                health.run(now, pool.settings(), pool);
                giveUpIf(pool.startDueWorkers(now, failures));
                reloads.advance(now);
                if (!reloads.active()) {
                    pool.startRecycles(now); // a roll replaces every worker anyway
                }
                pool.replenishSpares(now);
                training.tick(now);
            }
            case STOPPING -> {
                if (shutdown.tick(now, pool.workers(), training.checking())) {
                    phase = Phase.DONE;
                    if (shutdown.unreaped()) {
                        failures.unreaped();
                    }
                }
            }
            case DONE -> { }
        }
        handover.tick(now);
        metrics.observe(now, pool.readyCount());
        notices.tick(now, pool.counts(), pool.readyCount(), phase.stopping(), !pool.workers().isEmpty());
        readiness = new Readiness(now, pool.readyCount(), pool.size(), phase.stopping());
        return phase != Phase.DONE;
    }

    private void handle(Event event) {
        // Java 17 has no pattern switch; the sealed interface keeps this list complete.
        long now = clock.getAsLong();
        if (event instanceof Event.SignalReceived s) {
            onSignal(s.signal());
        } else if (event instanceof Event.WorkerExited e) {
            onWorkerExit(pool.reap(e.worker(), e.exitValue()), now);
        } else if (event instanceof Event.Hello h) {
            channel.hello(h.connection(), h.token(), shutdown.started());
        } else if (event instanceof Event.Message m) {
            Worker ready = channel.message(m.connection(), m.message(), now);
            if (ready != null) {
                onReady(ready);
            }
        } else if (event instanceof Event.ConnectionClosed c) {
            c.connection().close();
        } else if (event instanceof Event.ConfigRead r) {
            reloads.configured(r, now);
        } else if (event instanceof Event.ArchiveChecked a) {
            training.checked(a);
        } else if (event instanceof Event.UpgradeConnected) {
            handover.connected();
        } else if (event instanceof Event.UpgradeMessage u) {
            long newPid = handover.message(u.message());
            if (newPid > 0) {  // the new supervisor serves now: tell systemd, let go of the front doors, stop
                notices.mainPid(newPid);
                handOverHook.run();
                stop(false, "upgraded: pid " + newPid + " took over");
            }
        } else if (event instanceof Event.UpgradeEnded u) {
            handover.ended(u.why());
        } else if (event instanceof Event.AdminRequest a) {
            AdminReply reply = onAdmin(a.command(), a.args(), a.reply());
            if (reply != null) {
                a.reply().complete(reply);
            }
        }
    }

    /** Maps each signal to its action; the README's Signals table lists the same, in the same order. */
    private void onSignal(HandledSignal signal) {
        if (phase.stopping() && !signal.actsWhileStopping()) {
            log.warn("ignoring " + signal + ": the supervisor is stopping");
            return;
        }
        switch (signal) {
            case TERM -> onTerm();
            case INT -> stop(true, signal.toString());
            case HUP -> reloads.reload(signal.toString(), null, clock.getAsLong());
            case TTIN -> resize(pool.size() + 1, signal.toString());
            case TTOU -> {
                if (pool.size() <= 1) {
                    log.warn(signal + ": already at " + pool.size() + " worker(s), and the floor is 1");
                } else {
                    resize(pool.size() - 1, signal.toString());
                }
            }
            case WINCH -> resize(0, signal.toString());
            case USR1 -> channel.reopenLogs(logFile);
            case USR2 -> upgrade(signal.toString(), null);
        }
    }

    /**
     * Graceful stop; a second TERM makes it fast. With --lame-duck, the first TERM only turns
     * /readyz to 503 (and tells systemd STOPPING) while the workers go on serving, so a load
     * balancer can take the pod out of rotation before anything closes.
     */
    private void onTerm() {
        Duration lameDuck = pool.settings().lameDuck();
        if (phase.stopping()) {
            stop(true, "second SIGTERM");
        } else if (!lameDuck.isZero()) {
            phase = Phase.LAME_DUCK;
            lameDuckEndsAt = clock.getAsLong() + lameDuck.toNanos();
            log.info("SIGTERM: lame duck for " + Settings.seconds(lameDuck)
                    + " s: /readyz answers 503, workers keep serving; then a graceful stop");
            notices.stopping(pool.counts() + ", lame duck");
        } else {
            stop(false, "SIGTERM");
        }
    }

    /** A new supervisor, from the scripts and jars on disk now, takes over once its workers are READY. */
    private void upgrade(String why, CompletableFuture<AdminReply> reply) {
        handover.request(why, reply, clock.getAsLong(), pool.settings().bootTimeout().plusSeconds(30));
    }

    /** Routes a reaped worker by the role it had: the pool freed its place; the failure policy decides what follows. */
    private void onWorkerExit(WorkerPool.Exit exit, long now) {
        if (exit != null && !training.exited(exit) && !shutdown.started()) {
            giveUpIf(failures.exited(exit, now));
        }
    }

    /** The failure policy gave up: stop (fast after boot failures, gracefully over the restart budget). */
    private void giveUpIf(FailurePolicy.Verdict verdict) {
        switch (verdict) {
            case STOP_FAST -> stop(true, "boot failures");
            case STOP_GRACEFULLY -> stop(false, "too many restarts");
            case CARRY_ON -> { }
        }
    }

    private void onReady(Worker worker) {
        failures.booted();
        Slot slot = pool.slotHolding(worker);
        if (slot != null && slot.successor == worker) {
            Metrics.Cause cause = slot.successorCause;
            if (pool.takeOver(slot) != null) {
                metrics.restart(cause, "");
            }
            reloads.replaced(slot.id);
        }
        if (pool.newlyAllReady()) {
            log.info("all " + pool.size() + " workers are READY");
            notices.allReady(pool.counts(), phase.stopping());
        }
    }

    /** Grows (new slots start now) or shrinks (the highest slots' workers drain) to {@code n} slots. */
    private void resize(int n, String why) {
        for (Slot gone : pool.resize(n, why, clock.getAsLong())) {
            reloads.forget(gone.id);
        }
    }

    /** Returns the reply, or null when a later event completes it (a reload answers when its roll ends). */
    private AdminReply onAdmin(String word, List<String> args, CompletableFuture<AdminReply> reply) {
        AdminCommand command = AdminCommand.parse(word).orElse(null);
        if (command == null) {
            return AdminReply.error("unknown command '" + word + "'; commands: " + AdminCommand.usage(", "));
        }
        if (phase.stopping() && command.refusedWhileStopping()) {
            return AdminReply.error("the supervisor is stopping");
        }
        long now = clock.getAsLong();
        return switch (command) {
            case STATUS -> AdminReply.ok(StatusReport.render(StatusReport.rows(pool, now), args.contains("--json")));
            case METRICS -> AdminReply.ok(metrics.render(now, pool, listeners.queues()));
            case RELOAD -> {
                reloads.reload("ctl reload", reply, now);
                yield null;
            }
            case UPGRADE -> {
                upgrade("ctl upgrade", reply);
                yield null;
            }
            case SCALE -> {
                String refusal = AdminCommand.scaleRefusal(args);
                if (refusal != null) {
                    yield AdminReply.error(refusal);
                }
                int from = pool.size();
                resize(Integer.parseInt(args.get(0)), "ctl scale");
                yield AdminReply.ok("workers: " + from + " -> " + pool.size());
            }
            case STOP -> {
                stop(args.contains("--fast"), "ctl stop");
                yield AdminReply.ok(args.contains("--fast") ? "fast stop" : "graceful stop");
            }
        };
    }

    private void stop(boolean fast, String why) {
        boolean outOfRotation = phase == Phase.LAME_DUCK && clock.getAsLong() >= lameDuckEndsAt;  // STOP close-idle
        if (!phase.stopping() && !handover.handedOver()) {
            notices.stopping(pool.counts() + ", stopping");  // not after a hand-over: the service goes on
        }
        handover.cancel();
        reloads.cancel();
        phase = Phase.STOPPING;  // never from DONE: the loop ends with the step that gets there
        shutdown.request(fast, outOfRotation, why, pool.settings(), pool.workers(), clock.getAsLong());
    }

    /** How long the loop may sleep before a timer is due. */
    private long waitNanos() {
        long now = clock.getAsLong();
        long next = now + MAX_WAIT_NANOS;
        if (phase == Phase.STOPPING) {
            next = Math.min(next, shutdown.nextDue());
        } else if (phase != Phase.DONE) {
            next = health.nextDue(pool.nextStart(next), pool.settings(), pool.workers());
            next = phase == Phase.LAME_DUCK ? Math.min(next, lameDuckEndsAt) : next;
        }
        next = notices.nextDue(next, pool.readyCount());
        return Math.max(1, Math.min(next, handover.nextDue()) - now);
    }

    /** Why the supervisor gave up, or null. */
    public String failure() {
        return failures.failure();
    }

    /** For tests: the pool as the loop left it. */
    WorkerPool pool() {
        return pool;
    }
}
