package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The supervisor's event loop. One thread calls {@link #run()} (or {@link #step} in tests) and is
 * the only one that reads or changes workers, slots and the stop state; everyone else {@link #post}s.
 */
public final class Supervisor {
    /** How the supervisor behaves; the CLI fills it, tests shrink the times. */
    public record Settings(int workers, Duration bootTimeout, Duration gracefulTimeout,
                           Duration fastStopTimeout, int maxBootFailures) {
        public static Settings defaults(int workers) {
            return new Settings(workers, Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(1), 5);
        }
    }

    /** A listener as the workers get it: the fd to pass and the address to tell. */
    public record Handoff(String address, int fd) {
    }

    enum Phase { RUNNING, STOPPING, DONE }

    /** One of the N places a worker runs in; it keeps its restart backoff across workers. */
    private static final class Slot {
        final int id;
        final Backoff backoff = Backoff.standard();
        Worker worker;
        long startAt;

        Slot(int id) {
            this.id = id;
        }
    }

    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** After SIGKILL the kernel needs a moment to tear a JVM down; past this something is badly wrong. */
    private static final long REAP_AFTER_KILL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Settings settings;
    private final List<Handoff> listeners;
    private final WorkerLauncher launcher;
    private final LongSupplier clock;
    private final Log log;
    private final BlockingQueue<Event> events;
    private final SecureRandom random = new SecureRandom();

    private final List<Slot> slots = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    private Phase phase = Phase.RUNNING;
    private boolean fastStop;
    private long killAt = Long.MAX_VALUE;
    private long giveUpAt = Long.MAX_VALUE;
    private int consecutiveBootFailures;
    private int exitCode = ExitCodes.OK;
    private String failure;
    private boolean announcedAllReady;

    public Supervisor(Settings settings, List<Handoff> listeners, WorkerLauncher launcher, LongSupplier clock, Log log) {
        this(settings, listeners, launcher, clock, log, new LinkedBlockingQueue<>());
    }

    /**
     * @param events where signal handlers and control readers already post; made before the
     *               supervisor so nothing that arrives during start-up is lost
     */
    public Supervisor(Settings settings, List<Handoff> listeners, WorkerLauncher launcher, LongSupplier clock, Log log,
                      BlockingQueue<Event> events) {
        this.events = events;
        this.settings = settings;
        this.listeners = List.copyOf(listeners);
        this.launcher = launcher;
        this.clock = clock;
        this.log = log;
        long now = clock.getAsLong();
        for (int id = 1; id <= settings.workers(); id++) {
            Slot slot = new Slot(id);
            slot.startAt = now;
            slots.add(slot);
        }
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
        killWorkersNotReadyInTime(now);
        if (phase == Phase.RUNNING) {
            startDueWorkers(now);
        } else if (phase == Phase.STOPPING) {
            continueStopping(now);
        }
        return phase != Phase.DONE;
    }

    private void handle(Event event) {
        // Java 17 has no pattern switch; the sealed interface keeps this list complete.
        if (event instanceof Event.SignalReceived s) {
            onSignal(s.name());
        } else if (event instanceof Event.WorkerExited e) {
            onWorkerExit(e.worker(), e.exitValue());
        } else if (event instanceof Event.Hello h) {
            onHello(h.connection(), h.token());
        } else if (event instanceof Event.Message m) {
            onMessage(m.connection(), m.message());
        } else if (event instanceof Event.ConnectionClosed c) {
            onConnectionClosed(c.connection());
        }
    }

    /** Maps each signal to its action; the README's Signals table lists the same. */
    private void onSignal(String name) {
        switch (name) {
            case "TERM" -> stop(phase != Phase.RUNNING);   // graceful; a second TERM makes it fast
            case "INT" -> stop(true);
            default -> log.warn("ignoring SIG" + name);
        }
    }

    // ---- workers coming and going ----

    private void startDueWorkers(long now) {
        for (Slot slot : slots) {
            if (slot.worker == null && now >= slot.startAt) {
                startWorker(slot, now);
            }
        }
    }

    private void startWorker(Slot slot, long now) {
        String token = HexFormat.of().formatHex(nextToken());
        WorkerProcess process;
        try {
            process = launcher.launch(slot.id, token);
        } catch (IOException e) {
            log.error("worker " + slot.id + ": cannot start a JVM: " + e.getMessage());
            if (!countBootFailure("cannot start a JVM: " + e.getMessage())) {
                scheduleRestart(slot, slot.backoff.afterExit(Duration.ZERO), now);
            }
            return;
        }
        Worker worker = new Worker(slot.id, token, process, now);
        slot.worker = worker;
        workers.add(worker);
        log.info(worker + ": started, " + WorkerState.STARTING);
        process.onExit().thenAccept(value -> post(new Event.WorkerExited(worker, value)));
    }

    private byte[] nextToken() {
        byte[] token = new byte[16];
        random.nextBytes(token);
        return token;
    }

    private void onWorkerExit(Worker worker, int exitValue) {
        if (worker.state() == WorkerState.EXITED) {
            return;
        }
        long now = clock.getAsLong();
        boolean planned = worker.state() == WorkerState.DRAINING;
        worker.transitionTo(WorkerState.EXITED, ExitStatus.describe(exitValue), log);
        workers.remove(worker);
        Slot slot = slots.get(worker.id() - 1);
        if (slot.worker == worker) {
            slot.worker = null;
        }
        if (planned || phase != Phase.RUNNING) {
            return;
        }
        if (!worker.wasReady()) {
            String reason = worker.bootError() != null ? worker.bootError() : ExitStatus.describe(exitValue);
            log.warn(worker + ": failed to boot: " + reason);
            if (countBootFailure(reason)) {
                return;
            }
        }
        Duration served = worker.wasReady() ? Duration.ofNanos(now - worker.readyAt()) : Duration.ZERO;
        scheduleRestart(slot, slot.backoff.afterExit(served), now);
    }

    private void scheduleRestart(Slot slot, Duration delay, long now) {
        slot.startAt = now + delay.toNanos();
        log.info("worker " + slot.id + ": restarting in " + delay.toMillis() + " ms");
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
        stop(true);
        return true;
    }

    private void killWorkersNotReadyInTime(long now) {
        if (phase != Phase.RUNNING) {
            return;
        }
        for (Worker w : workers) {
            boolean booting = w.state() == WorkerState.STARTING || w.state() == WorkerState.BOOTING;
            if (booting && !w.killSent() && now - w.startedAt() >= settings.bootTimeout().toNanos()) {
                String reason = "not READY within --boot-timeout " + settings.bootTimeout().toSeconds() + " s";
                log.warn(w + ": " + reason + "; killing it");
                w.setBootError(reason);
                w.kill();
            }
        }
    }

    // ---- the control channel ----

    private void onHello(WorkerConnection connection, String token) {
        Worker worker = workerWithToken(token);
        String refusal = worker == null ? "unknown token"
                : worker.state() != WorkerState.STARTING ? "token already used"
                : worker.pid() != connection.peerPid() ? "token belongs to pid " + worker.pid()
                : phase != Phase.RUNNING ? "shutting down"
                : null;
        if (refusal != null) {
            log.warn("control: refused a connection from pid " + connection.peerPid()
                    + " (uid " + connection.peerUid() + "): " + refusal);
            connection.close();
            return;
        }
        int[] fds = listeners.stream().mapToInt(Handoff::fd).toArray();
        String[] addresses = listeners.stream().map(Handoff::address).toArray(String[]::new);
        try {
            connection.sendWithFds(ControlMessage.of(MessageType.FDS, addresses), fds);
        } catch (IOException e) {
            log.warn(worker + ": could not send the listeners: " + e.getMessage() + "; killing it");
            connection.close();
            worker.kill();
            return;
        }
        worker.attach(connection);
        worker.transitionTo(WorkerState.BOOTING, "sent " + fds.length + " listener(s)", log);
    }

    private Worker workerWithToken(String token) {
        byte[] given = token.getBytes(StandardCharsets.UTF_8);
        for (Worker w : workers) {
            if (MessageDigest.isEqual(given, w.token().getBytes(StandardCharsets.UTF_8))) {
                return w;
            }
        }
        return null;
    }

    private Worker workerOn(WorkerConnection connection) {
        for (Worker w : workers) {
            if (w.connection() == connection) {
                return w;
            }
        }
        return null;
    }

    private void onMessage(WorkerConnection connection, ControlMessage message) {
        Worker worker = workerOn(connection);
        if (worker == null) {
            return; // the worker already exited; its last words do not matter
        }
        switch (message.type()) {
            case READY -> onReady(worker);
            case BOOT_ERROR -> worker.setBootError(message.args().isEmpty() ? "unknown" : message.args().get(0));
            default -> log.warn(worker + ": unexpected control message " + message.type());
        }
    }

    private void onReady(Worker worker) {
        if (worker.state() != WorkerState.BOOTING) {
            return;
        }
        long now = clock.getAsLong();
        worker.markReady(now);
        worker.transitionTo(WorkerState.READY, "ready in " + Duration.ofNanos(now - worker.startedAt()).toMillis() + " ms", log);
        consecutiveBootFailures = 0;
        if (!announcedAllReady && readyCount() == slots.size()) {
            announcedAllReady = true;
            log.info("all " + slots.size() + " workers are READY");
        }
    }

    private void onConnectionClosed(WorkerConnection connection) {
        connection.close();
    }

    int readyCount() {
        int n = 0;
        for (Worker w : workers) {
            if (w.state() == WorkerState.READY) {
                n++;
            }
        }
        return n;
    }

    // ---- stopping ----

    /**
     * Graceful: each worker gets STOP with the time left and drains; whatever is left at the
     * deadline gets SIGKILL. Fast: SIGTERM now, SIGKILL after {@code fastStopTimeout}.
     */
    private void stop(boolean fast) {
        long now = clock.getAsLong();
        if (phase == Phase.RUNNING) {
            phase = Phase.STOPPING;
            killAt = now + settings.gracefulTimeout().toNanos();
            log.info(fast ? "fast stop" : "graceful stop: workers have " + settings.gracefulTimeout().toSeconds() + " s to finish");
            for (Worker w : workers) {
                askToStop(w, settings.gracefulTimeout());
            }
        } else if (fast && !fastStop) {
            log.info("fast stop");
        }
        if (fast && !fastStop) {
            fastStop = true;
            killAt = Math.min(killAt, now + settings.fastStopTimeout().toNanos());
            for (Worker w : workers) {
                w.terminate();
                if (w.state() != WorkerState.DRAINING) {
                    w.transitionTo(WorkerState.DRAINING, "SIGTERM", log);
                }
            }
        }
    }

    private void askToStop(Worker w, Duration timeLeft) {
        if (w.state() == WorkerState.DRAINING) {
            return;
        }
        if (w.connection() != null) {
            try {
                w.connection().send(ControlMessage.of(MessageType.STOP, Long.toString(timeLeft.toMillis())));
                w.transitionTo(WorkerState.DRAINING, "sent STOP", log);
                return;
            } catch (IOException e) {
                log.warn(w + ": could not send STOP (" + e.getMessage() + "); sending SIGTERM");
            }
        }
        w.terminate();
        w.transitionTo(WorkerState.DRAINING, "SIGTERM", log);
    }

    private void continueStopping(long now) {
        if (workers.isEmpty()) {
            phase = Phase.DONE;
            log.info("all workers are gone; exiting");
            return;
        }
        if (now >= killAt && giveUpAt == Long.MAX_VALUE) {
            for (Worker w : workers) {
                log.warn(w + ": still running at the stop deadline; sending SIGKILL");
                w.kill();
            }
            giveUpAt = now + REAP_AFTER_KILL_NANOS;
        }
        if (now >= giveUpAt) {
            log.error("workers still not reaped after SIGKILL: " + workers + "; exiting anyway");
            exitCode = ExitCodes.RUNTIME;
            phase = Phase.DONE;
        }
    }

    /** How long the loop may sleep before a timer is due. */
    private long waitNanos() {
        long now = clock.getAsLong();
        long next = now + MAX_WAIT_NANOS;
        if (phase == Phase.RUNNING) {
            for (Slot slot : slots) {
                if (slot.worker == null) {
                    next = Math.min(next, slot.startAt);
                }
            }
            for (Worker w : workers) {
                if (!w.wasReady()) {
                    next = Math.min(next, w.startedAt() + settings.bootTimeout().toNanos());
                }
            }
        } else {
            next = Math.min(next, Math.min(killAt, giveUpAt));
        }
        return Math.max(1, next - now);
    }

    /** Why the supervisor gave up, or null. */
    public String failure() {
        return failure;
    }

    List<Worker> workers() {
        return List.copyOf(workers);
    }

    Phase phase() {
        return phase;
    }
}
