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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The supervisor's event loop. One thread calls {@link #run()} (or {@link #step} in tests) and is
 * the only one that reads or changes workers, slots, the roll and the stop state; everyone else
 * {@link #post}s an {@link Event}.
 */
public final class Supervisor {
    /** How the supervisor behaves; the CLI fills it, tests shrink the times. */
    public record Settings(int workers, Duration bootTimeout, Duration gracefulTimeout, Duration fastStopTimeout,
                           int maxBootFailures, Duration timeout, int maxSurge, long maxRequests,
                           long maxRequestsJitter, long maxRssBytes) {
        public static Settings defaults(int workers) {
            return new Settings(workers, Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(1), 5,
                    Duration.ofSeconds(30), 1, 0, 0, 0);
        }

        public Settings withTimeouts(Duration boot, Duration graceful, Duration heartbeat) {
            return new Settings(workers, boot, graceful, fastStopTimeout, maxBootFailures, heartbeat, maxSurge,
                    maxRequests, maxRequestsJitter, maxRssBytes);
        }

        public Settings withRecycling(int surge, long requests, long jitter, long rssBytes) {
            return new Settings(workers, bootTimeout, gracefulTimeout, fastStopTimeout, maxBootFailures, timeout, surge,
                    requests, jitter, rssBytes);
        }
    }

    /** A listener as the workers get it: the fd to pass and the address to tell. */
    public record Handoff(String address, int fd) {
    }

    /** Re-reads the configuration on a reload: the command line as given, plus the config file. */
    public interface Reloader {
        Generation reload() throws UsageException;
    }

    /** The log file, if logging goes to one: reopened on USR1. */
    public interface LogFile {
        void reopen() throws IOException;
    }

    enum Phase { RUNNING, STOPPING, DONE }

    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** After SIGKILL the kernel needs a moment to tear a JVM down; past this something is badly wrong. */
    private static final long REAP_AFTER_KILL_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Time a silent worker gets to print its thread dump before SIGKILL. */
    private static final long DUMP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long RSS_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final List<Handoff> listeners;
    private final LongSupplier clock;
    private final Log log;
    private final BlockingQueue<Event> events;
    private final SecureRandom random = new SecureRandom();
    private Settings settings;
    private WorkerLauncher launcher;
    private Reloader reloader;
    private LogFile logFile;

    private final List<Slot> slots = new ArrayList<>();
    /** Every process started and not yet reaped: slot holders and retiring workers alike. */
    private final List<Worker> workers = new ArrayList<>();
    private RollingRestart roll;
    private final List<CompletableFuture<AdminReply>> nextRollWaiters = new ArrayList<>();
    private boolean rollAgain;
    private Phase phase = Phase.RUNNING;
    private boolean fastStop;
    private long killAt = Long.MAX_VALUE;
    private long giveUpAt = Long.MAX_VALUE;
    private long lastRssCheck;
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
            slots.add(new Slot(id, now));
        }
    }

    /** Set before {@link #run()}: without one, a reload restarts the workers with the same configuration. */
    public void setReloader(Reloader reloader) {
        this.reloader = reloader;
    }

    public void setLogFile(LogFile logFile) {
        this.logFile = logFile;
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
        if (phase == Phase.RUNNING) {
            killWorkersNotReadyInTime(now);
            killUnresponsiveWorkers(now);
            checkMemory(now);
            startDueWorkers(now);
            advanceRoll(now);
            startRecycles(now);
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
            c.connection().close();
        } else if (event instanceof Event.AdminRequest a) {
            AdminReply reply = onAdmin(a.command(), a.args(), a.reply());
            if (reply != null) {
                a.reply().complete(reply);
            }
        }
    }

    /** Maps each signal to its action; the README's Signals table lists the same, in the same order. */
    private void onSignal(String name) {
        switch (name) {
            case "TERM" -> stop(phase != Phase.RUNNING, "SIGTERM");  // graceful; a second TERM makes it fast
            case "INT" -> stop(true, "SIGINT");
            case "HUP" -> reload("SIGHUP", null);
            case "TTIN" -> resize(slots.size() + 1, "SIGTTIN");
            case "TTOU" -> {
                if (slots.size() <= 1) {
                    log.warn("SIGTTOU: already at " + slots.size() + " worker(s), and the floor is 1");
                } else {
                    resize(slots.size() - 1, "SIGTTOU");
                }
            }
            case "WINCH" -> resize(0, "SIGWINCH");
            case "USR1" -> reopenLogs();
            default -> log.warn("ignoring SIG" + name);
        }
    }

    // ---- starting, replacing and losing workers ----

    private Worker launch(int slotId, long now) throws IOException {
        String token = HexFormat.of().formatHex(nextToken());
        long limit = settings.maxRequests() <= 0 ? 0
                : settings.maxRequests() + (settings.maxRequestsJitter() <= 0 ? 0
                : random.nextInt((int) Math.min(Integer.MAX_VALUE - 1, settings.maxRequestsJitter()) + 1));
        WorkerProcess process = launcher.launch(new WorkerLauncher.Spec(slotId, token, limit));
        Worker worker = new Worker(slotId, token, process, now, limit);
        workers.add(worker);
        process.onExit().thenAccept(value -> post(new Event.WorkerExited(worker, value)));
        return worker;
    }

    private byte[] nextToken() {
        byte[] token = new byte[16];
        random.nextBytes(token);
        return token;
    }

    private void startDueWorkers(long now) {
        for (Slot slot : slots) {
            if (slot.active == null && slot.successor == null && now >= slot.startAt) {
                try {
                    slot.active = launch(slot.id, now);
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
        try {
            slot.successor = launch(slot.id, now);
            log.info(slot.successor + ": started to replace " + slot.active + " (" + why + ")");
            return true;
        } catch (IOException e) {
            log.error("worker " + slot.id + ": cannot start a JVM: " + e.getMessage());
            if (roll != null && roll.isBooting(slot.id)) {
                abortRoll("cannot start a JVM: " + e.getMessage());
            }
            return false;
        }
    }

    private void promote(Slot slot, Worker successor) {
        Worker old = slot.active;
        slot.active = successor;
        slot.successor = null;
        slot.restarts++;
        if (old != null) {
            retire(old, "replaced by pid " + successor.pid());
        }
        if (roll != null && roll.isBooting(slot.id)) {
            roll.replacedOne(slot.id);
        }
    }

    private void onWorkerExit(Worker worker, int exitValue) {
        if (worker.state() == WorkerState.EXITED) {
            return;
        }
        long now = clock.getAsLong();
        String cause = ExitStatus.describe(exitValue) + (worker.killReason() == null ? "" : ": " + worker.killReason());
        worker.transitionTo(WorkerState.EXITED, cause, log);
        workers.remove(worker);
        Slot slot = slotHolding(worker);
        if (slot == null || phase != Phase.RUNNING) {
            return; // retired, or we are stopping: an exit we asked for
        }
        String reason = worker.bootError() != null ? worker.bootError() : cause;
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

    private void successorFailed(Slot slot, Worker successor, String reason, long now) {
        if (roll != null && roll.isBooting(slot.id)) {
            abortRoll(successor + " failed to boot: " + reason);
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

    private Slot slotHolding(Worker w) {
        for (Slot slot : slots) {
            if (slot.holds(w)) {
                return slot;
            }
        }
        return null;
    }

    private Slot slotWithId(int id) {
        return id >= 1 && id <= slots.size() ? slots.get(id - 1) : null;
    }

    // ---- health: boot deadline, heartbeats, memory, request limits ----

    private void killWorkersNotReadyInTime(long now) {
        for (Worker w : workers) {
            boolean booting = w.state() == WorkerState.STARTING || w.state() == WorkerState.BOOTING;
            if (booting && !w.killSent() && now - w.startedAt() >= settings.bootTimeout().toNanos()) {
                String reason = "not READY within --boot-timeout " + seconds(settings.bootTimeout()) + " s";
                log.warn(w + ": " + reason + "; killing it");
                w.setBootError(reason);
                w.kill(reason);
            }
        }
    }

    /**
     * A READY worker that stops sending heartbeats is frozen (SIGSTOP, swap, a GC spiral). It is
     * thawed and asked for a thread dump first, so the operator sees where it hung, then killed.
     */
    private void killUnresponsiveWorkers(long now) {
        if (settings.timeout().isZero()) {
            return;
        }
        for (Worker w : workers) {
            long silent = now - w.lastHeartbeat();
            if (w.state() != WorkerState.READY || w.killSent()) {
                continue;
            }
            if (w.dumpRequestedAt() < 0 && silent > settings.timeout().toNanos()) {
                log.warn(w + ": no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms (--timeout "
                        + seconds(settings.timeout()) + " s); its thread dump follows on stdout, then SIGKILL");
                w.requestThreadDump(now);
            } else if (w.dumpRequestedAt() >= 0 && now - w.dumpRequestedAt() >= DUMP_GRACE_NANOS) {
                w.kill("no heartbeat for " + seconds(settings.timeout()) + " s");
            }
        }
    }

    private void checkMemory(long now) {
        if (settings.maxRssBytes() <= 0 || now - lastRssCheck < RSS_CHECK_NANOS) {
            return;
        }
        lastRssCheck = now;
        for (Slot slot : slots) {
            Worker w = slot.active;
            if (w != null && w.state() == WorkerState.READY && !w.recycleWanted()) {
                long rss = w.process().rssBytes();
                if (rss > settings.maxRssBytes()) {
                    log.info(w + ": resident memory " + (rss >> 20) + " MiB is over --max-worker-rss "
                            + (settings.maxRssBytes() >> 20) + " MiB; recycling once a replacement is READY");
                    w.wantRecycle();
                }
            }
        }
    }

    /** Replaces workers that asked (request limit) or grew (memory), within the surge budget. */
    private void startRecycles(long now) {
        if (roll != null) {
            return; // the roll replaces every worker anyway
        }
        int booting = 0;
        for (Slot slot : slots) {
            booting += slot.successor == null ? 0 : 1;
        }
        for (Slot slot : slots) {
            Worker w = slot.active;
            if (booting < settings.maxSurge() && w != null && w.recycleWanted() && w.state() == WorkerState.READY
                    && slot.successor == null && now >= slot.recycleNotBefore
                    && startSuccessor(slot, now, "recycle")) {
                booting++;
            }
        }
    }

    // ---- rolling restart and resizing ----

    private void reload(String why, CompletableFuture<AdminReply> waiter) {
        if (roll != null) {
            rollAgain = true;
            if (waiter != null) {
                nextRollWaiters.add(waiter);
            }
            log.info(why + ": a rolling restart is under way; another one follows it");
            return;
        }
        Generation previous = new Generation(settings, launcher);
        if (reloader != null) {
            try {
                Generation next = reloader.reload();
                settings = next.settings();
                launcher = next.launcher();
            } catch (UsageException e) {
                log.error(why + ": configuration not reloaded, keeping the running one: " + e.getMessage());
                if (waiter != null) {
                    waiter.complete(AdminReply.error("configuration not reloaded: " + e.getMessage()));
                }
                return;
            }
        }
        List<Integer> toReplace = new ArrayList<>();
        for (Slot slot : slots) {
            if (slot.active != null && slot.id <= settings.workers()) {
                toReplace.add(slot.id);
            }
        }
        resize(settings.workers(), why);
        roll = new RollingRestart(why, previous, toReplace);
        roll.addWaiter(waiter);
        log.info("rolling restart (" + why + "): replacing " + toReplace.size() + " worker(s), "
                + settings.maxSurge() + " at a time; each old one stops once its successor is READY");
    }

    private void advanceRoll(long now) {
        while (roll != null) {
            Integer id;
            while ((id = roll.next(settings.maxSurge())) != null) {
                Slot slot = slotWithId(id);
                if (slot == null || slot.active == null || slot.successor != null) {
                    roll.forget(id); // gone, empty (restarts with the new configuration anyway), or already being replaced
                } else {
                    startSuccessor(slot, now, roll.reason);
                    if (roll == null) {
                        return; // starting it failed and aborted the roll
                    }
                }
            }
            if (!roll.isDone()) {
                return;
            }
            String done = "rolling restart done: " + roll.replaced() + " worker(s) replaced";
            log.info(done);
            roll.finish(AdminReply.ok(done));
            roll = null;
            if (rollAgain) {
                startQueuedRoll(); // and go round again to start its first successors now
            }
        }
    }

    /** A reload asked for during a roll runs after it, with the configuration as it is then. */
    private void startQueuedRoll() {
        rollAgain = false;
        List<CompletableFuture<AdminReply>> waiters = List.copyOf(nextRollWaiters);
        nextRollWaiters.clear();
        reload("queued reload", null);
        for (CompletableFuture<AdminReply> waiter : waiters) {
            if (roll != null) {
                roll.addWaiter(waiter);
            } else {
                waiter.complete(AdminReply.error("the queued reload did not start; see the supervisor's log"));
            }
        }
    }

    private void abortRoll(String reason) {
        String text = "rolling restart aborted: " + reason + "; the old workers keep serving";
        log.error(text);
        for (int id : roll.booting()) {
            Slot slot = slotWithId(id);
            if (slot != null && slot.successor != null) {
                Worker successor = slot.successor;
                slot.successor = null;
                retire(successor, "rolling restart aborted");
            }
        }
        settings = roll.previous.settings();
        launcher = roll.previous.launcher();
        roll.finish(AdminReply.error(text));
        roll = null;
        rollAgain = false;
        nextRollWaiters.forEach(w -> w.complete(AdminReply.error(text)));
        nextRollWaiters.clear();
    }

    /** Grows (new slots start now) or shrinks (the highest slots' workers drain) to {@code n} slots. */
    private void resize(int n, String why) {
        if (n == slots.size()) {
            return;
        }
        log.info("workers: " + slots.size() + " -> " + n + " (" + why + ")");
        long now = clock.getAsLong();
        while (slots.size() < n) {
            slots.add(new Slot(slots.size() + 1, now));
        }
        while (slots.size() > n) {
            Slot gone = slots.remove(slots.size() - 1);
            if (roll != null) {
                roll.forget(gone.id);
            }
            retire(gone.successor, why);
            retire(gone.active, why);
        }
        announcedAllReady = false;
    }

    /** Takes a worker out of service: graceful stop; its exit is then expected. */
    private void retire(Worker w, String why) {
        if (w != null && w.state() != WorkerState.EXITED) {
            askToStop(w, settings.gracefulTimeout(), why);
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
            worker.kill("could not send the listeners");
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
        Slot slot = slotHolding(worker);
        if (slot != null && slot.successor == worker) {
            promote(slot, worker);
        }
        if (!announcedAllReady && readyCount() == slots.size() && !slots.isEmpty()) {
            announcedAllReady = true;
            log.info("all " + slots.size() + " workers are READY");
        }
    }

    int readyCount() {
        int n = 0;
        for (Slot slot : slots) {
            n += slot.active != null && slot.active.state() == WorkerState.READY ? 1 : 0;
        }
        return n;
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
        for (Worker w : workers) {
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

    private AdminReply onAdmin(String command, List<String> args, CompletableFuture<AdminReply> reply) {
        switch (command) {
            case "status":
                return AdminReply.ok(args.contains("--json") ? StatusReport.json(status()) : StatusReport.table(status()));
            case "reload":
                reload("ctl reload", reply);
                return null; // the roll completes the reply when it ends
            case "scale":
                return scale(args);
            case "stop":
                stop(args.contains("--fast"), "ctl stop");
                return AdminReply.ok(args.contains("--fast") ? "fast stop" : "graceful stop");
            default:
                return AdminReply.error("unknown command '" + command + "'; commands: status [--json], reload, scale N, stop [--fast]");
        }
    }

    private AdminReply scale(List<String> args) {
        try {
            int n = Integer.parseInt(args.isEmpty() ? "" : args.get(0));
            if (n < 1 || n > 1024) {
                return AdminReply.error("scale needs a number of workers from 1 to 1024, got " + n);
            }
            int from = slots.size();
            resize(n, "ctl scale");
            return AdminReply.ok("workers: " + from + " -> " + n);
        } catch (NumberFormatException e) {
            return AdminReply.error("scale needs a number of workers from 1 to 1024");
        }
    }

    List<StatusReport.Row> status() {
        long now = clock.getAsLong();
        List<StatusReport.Row> rows = new ArrayList<>();
        for (Worker w : workers) {
            Slot slot = slotHolding(w);
            String role = slot == null ? "retiring" : slot.successor == w ? "successor" : "active";
            rows.add(new StatusReport.Row(w.id(), w.pid(), w.state(), role, Duration.ofNanos(now - w.startedAt()),
                    w.requests(), slot == null ? 0 : slot.restarts, w.process().rssBytes()));
        }
        return rows;
    }

    // ---- stopping ----

    /**
     * Graceful: each worker gets STOP with the time left and drains; whatever is left at the
     * deadline gets SIGKILL. Fast: SIGTERM now, SIGKILL after {@code fastStopTimeout}.
     */
    private void stop(boolean fast, String why) {
        long now = clock.getAsLong();
        if (phase == Phase.RUNNING) {
            phase = Phase.STOPPING;
            killAt = now + settings.gracefulTimeout().toNanos();
            log.info((fast ? "fast stop (" : "graceful stop (") + why + ")"
                    + (fast ? "" : ": workers have " + seconds(settings.gracefulTimeout()) + " s to finish"));
            if (roll != null) {
                roll.finish(AdminReply.error("rolling restart cut short: the supervisor is stopping"));
                roll = null;
            }
            for (Worker w : workers) {
                askToStop(w, settings.gracefulTimeout(), why);
            }
        } else if (fast && !fastStop) {
            log.info("fast stop (" + why + ")");
        }
        if (fast && !fastStop) {
            fastStop = true;
            killAt = Math.min(killAt, now + settings.fastStopTimeout().toNanos());
            for (Worker w : workers) {
                w.terminate();
            }
        }
    }

    private void askToStop(Worker w, Duration timeLeft, String why) {
        if (w.state() == WorkerState.DRAINING) {
            return;
        }
        if (w.connection() != null) {
            try {
                w.connection().send(ControlMessage.of(MessageType.STOP, Long.toString(timeLeft.toMillis())));
                w.transitionTo(WorkerState.DRAINING, "sent STOP: " + why, log);
                return;
            } catch (IOException e) {
                log.warn(w + ": could not send STOP (" + e.getMessage() + "); sending SIGTERM");
            }
        }
        w.terminate();
        w.transitionTo(WorkerState.DRAINING, "SIGTERM: " + why, log);
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
                w.kill("still running at the stop deadline");
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
                if (slot.active == null && slot.successor == null) {
                    next = Math.min(next, slot.startAt);
                }
            }
            for (Worker w : workers) {
                if (!w.wasReady()) {
                    next = Math.min(next, w.startedAt() + settings.bootTimeout().toNanos());
                } else if (w.dumpRequestedAt() >= 0) {
                    next = Math.min(next, w.dumpRequestedAt() + DUMP_GRACE_NANOS);
                }
            }
        } else {
            next = Math.min(next, Math.min(killAt, giveUpAt));
        }
        return Math.max(1, next - now);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }

    /** Why the supervisor gave up, or null. */
    public String failure() {
        return failure;
    }

    List<Worker> workers() {
        return List.copyOf(workers);
    }

    int slotCount() {
        return slots.size();
    }

    Phase phase() {
        return phase;
    }
}
