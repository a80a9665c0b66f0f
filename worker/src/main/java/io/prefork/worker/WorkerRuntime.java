package io.prefork.worker;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.ProtocolException;
import io.prefork.unix.FdPassing;
import io.prefork.unix.Fds;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** The worker side of one control connection: listeners, readiness, heartbeats, and the stop sequence. */
final class WorkerRuntime {
    /** What the supervisor told this worker through its environment. */
    record Options(long maxRequests, Duration heartbeat, String logFile, int warmupRequests, String warmupPath,
                   boolean privateListener) {
    }

    /**
     * How long a worker may drain once its supervisor has died. Orphans must be gone within 2 s;
     * EOF arrives some 10-100 ms after the death and the JVM needs time to exit, hence 1 s.
     */
    static final Duration ORPHAN_STOP_TIME = Duration.ofSeconds(1);
    static final Duration SUPERVISOR_KILL_GRACE = Duration.ofSeconds(2);

    private volatile int id;
    private final Options options;
    private final ControlSocket control;
    private volatile List<InheritedListener> listeners;
    private volatile Set<String> listenerSockets = Set.of();
    /** The connections accepted on those listeners; one for the worker's life, so it keeps their addresses. */
    private volatile AcceptedConnections accepted = AcceptedConnections.of(Set.of());
    /** Opens once the listeners are here: at once, or when a spare is promoted. */
    private final CountDownLatch promoted = new CountDownLatch(1);
    private final AtomicBoolean parked = new AtomicBoolean();
    private final WorkerWarmUp warmUp;
    private final AtomicBoolean ready = new AtomicBoolean();
    /** Every request counted, warm-up requests too ({@link WorkerWarmUp#served()} says how many of those). */
    private final AtomicLong requests = new AtomicLong();
    private final AtomicBoolean recycleAsked = new AtomicBoolean();
    private final AtomicBoolean withdrawn = new AtomicBoolean();
    /** The supervisor's private directory, the control socket's: see {@link ListenerWithdrawal#withdraw}. */
    private final Path supervisorDirectory;
    private final WorkerStop stop = new WorkerStop(this::stopAccepting,
            timeLeft -> acceptedConnections().closeWhenIdle(timeLeft), System::exit);
    /** STOP said close-idle: the server was out of rotation for its lame-duck period. */
    private volatile boolean closeIdle;

    private WorkerRuntime(int id, Options options, ControlSocket control, Path supervisorDirectory) {
        this.id = id;
        this.options = options;
        this.control = control;
        this.supervisorDirectory = supervisorDirectory;
        this.warmUp = new WorkerWarmUp(this, options.warmupRequests(), options.warmupPath(), options.privateListener());
    }

    /**
     * Says hello with the token, then either receives the listeners (making listener 0 the inherited
     * channel) or is told it is a spare, whose listeners come later, on promotion.
     */
    static WorkerRuntime connect(int id, Options options, String socketPath, String token) throws IOException {
        ControlSocket control = ControlSocket.connect(socketPath, FdPassing.INSTANCE);
        control.send(ControlMessage.of(MessageType.HELLO, token));
        ControlMessage first = control.receive();
        if (first == null) {
            throw new IOException("the supervisor closed the control connection during the handshake");
        }
        WorkerRuntime runtime = new WorkerRuntime(id, options, control, Path.of(socketPath).toAbsolutePath().getParent());
        if (first.type() == MessageType.SPARE && WorkerLog.training()) {
            runtime.train();
        } else if (first.type() == MessageType.SPARE) {
            WorkerLog.setWorkerId(0);
            WorkerLog.info("a hot spare: the app boots now and gets its listeners on promotion");
        } else if (first.type() == MessageType.FDS) {
            runtime.takeListeners(first.args());
        } else {
            throw new ProtocolException("expected FDS or SPARE, got " + first.type());
        }
        return runtime;
    }

    /** The listeners' addresses and their fds: listener 0 goes on fd 0, then listeners() returns. */
    private void takeListeners(List<String> addresses) throws IOException {
        List<Integer> fds = control.takeReceivedFds();
        if (fds.size() != addresses.size() || fds.isEmpty()) {
            throw new ProtocolException(addresses.size() + " listeners named but " + fds.size() + " fds arrived");
        }
        if (!warmUp.takeListenerZero(fds.get(0), addresses.get(0))) {
            Fds.dup2(fds.get(0), 0);
        }
        List<InheritedListener> list = new ArrayList<>();
        Set<String> sockets = new HashSet<>();
        for (int i = 0; i < fds.size(); i++) {
            list.add(new ReceivedListener(i, addresses.get(i), fds.get(i)));
            sockets.add(ProcSelf.identity(fds.get(i)));
        }
        listenerSockets = Set.copyOf(sockets);
        accepted = AcceptedConnections.of(listenerSockets);
        listeners = List.copyOf(list);
        promoted.countDown();
    }

    /**
     * The class archive's training run: a spare that serves --training-requests before it parks, through
     * the app's hook or else on a private loopback listener (see {@link WarmUpListener}).
     */
    private void train() {
        WorkerLog.setWorkerId(0);
        int requests = options.warmupRequests();
        String serves = requests == 0 ? ""
                : " serves " + requests + " request(s) to " + options.warmupPath() + (options.privateListener()
                        ? " (through its warm-up hook, or on a private loopback listener),"
                        : " through its warm-up hook if it has one,");
        WorkerLog.info("the class archive's training run: the app boots now," + serves
                + " and is stopped once it waits for its listeners");
        loadedForTheArchive(ReceivedListener.class);  // the listeners never come here; every worker takes them
    }

    /** Nothing: naming the classes loads them (and no more), so that the training run's archive holds them. */
    private static void loadedForTheArchive(Class<?>... classes) {
    }

    int id() {
        return id;
    }

    /**
     * The listeners; a spare blocks here (after telling the supervisor it is PARKED) until promoted.
     * The training run of an app with no warm-up hook gets its private listener instead.
     */
    List<InheritedListener> listeners() {
        warmUp.runHookOnce(requests::get);
        WarmUpListener training = WorkerLog.training() && !warmUp.hasHook() ? warmUp.privateListenerBeforeListeners() : null;
        if (training != null) {
            // No hook: the training run's app gets its private listener as listener 0 and serves its
            // requests there; it parks once they are served (WarmUpListener), and never gets a real one.
            return List.of(new ReceivedListener(0, training.address(), 0));
        }
        if (!awaitPromotion()) {
            return List.of();
        }
        warmUp.giveUpPrivateListener();
        return listeners;
    }

    /**
     * For System.inheritedChannel(): what fd 0 holds is the app's channel. With requests to serve, a
     * spare's or the training run's app takes its private listener at once, and parks once it has
     * served there; otherwise a spare parks here until promoted, and then fd 0 holds listener 0 (or,
     * with --warmup-requests, the private listener it warms up on first).
     */
    void awaitInheritedChannel() {
        if (warmUp.privateListenerBeforeListeners() == null) {
            awaitPromotion();
        }
    }

    /** A spare tells the supervisor it is PARKED, once, and waits; false if interrupted. */
    private boolean awaitPromotion() {
        park();
        try {
            promoted.await();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Tells the supervisor, once, that this spare waits for its listeners (the training run: that it is done). */
    void park() {
        if (promoted.getCount() > 0 && parked.compareAndSet(false, true)) {
            WorkerLog.info("parked: the app waits for its listeners");
            sendQuietly(ControlMessage.of(MessageType.PARKED));
        }
    }

    boolean parked() {
        return parked.get();
    }

    WorkerWarmUp warmUp() {
        return warmUp;
    }

    /**
     * Waits until the listeners are here (at once, or when a spare is promoted) without telling the
     * supervisor anything: for prefork's own threads, unlike {@link #listeners()}, which the app calls.
     */
    void awaitListeners() throws InterruptedException {
        promoted.await();
    }

    /** {@code socket:[inode]} of each listener: what auto readiness looks for. */
    Set<String> listenerSockets() {
        return listenerSockets;
    }

    boolean isReady() {
        return ready.get();
    }

    boolean isStopping() {
        return stop.isStopping();
    }

    /** See {@link WorkerStop#isDraining}. */
    boolean isDraining() {
        return stop.isDraining();
    }

    /** Counts one finished request; at the limit, asks the supervisor once for a replacement. */
    void requestDone() {
        // A warm-up request takes the same path as a real one: a branch the warm-up never took would
        // cost the first real request a deoptimization. It is counted, then taken off the count.
        long n = requests.incrementAndGet() - warmUp.served();
        if (options.maxRequests() > 0 && n >= options.maxRequests() && !warmUp.running() && recycleAsked.compareAndSet(false, true)) {
            WorkerLog.info("served " + n + " requests, the limit; asking to be recycled");
            sendQuietly(ControlMessage.of(MessageType.RECYCLE, Long.toString(n)));
        }
    }

    void addStopHandler(StopHandler handler) {
        stop.addHandler(handler);
    }

    void markReady(String how) {
        if (warmUp.deferReady(how) || stop.isStopping() || WorkerLog.training() || !ready.compareAndSet(false, true)) {
            return;
        }
        WorkerLog.info("ready (" + how + ")");
        sendQuietly(ControlMessage.of(MessageType.READY));
    }

    /** Tells the supervisor why boot failed, just before the worker exits. */
    void reportBootError(String reason) {
        if (!ready.get()) {
            sendQuietly(ControlMessage.of(MessageType.BOOT_ERROR, reason));
        }
    }

    void sendQuietly(ControlMessage message) {
        try {
            control.send(message);
        } catch (IOException e) {
            WorkerLog.info("could not send " + message.type() + " to the supervisor: " + e.getMessage());
        }
    }

    void startControlThread() {
        Thread t = new Thread(this::readControl, "prefork-control");
        t.setDaemon(true);
        t.start();
        Thread heartbeat = new Thread(this::sendHeartbeats, "prefork-heartbeat");
        heartbeat.setDaemon(true);
        heartbeat.start();
    }

    /**
     * Proves the JVM is alive: a frozen JVM (SIGSTOP, a GC death spiral, swap) goes silent and the
     * supervisor replaces it. It says nothing about an app thread stuck in a request.
     */
    private void sendHeartbeats() {
        while (true) {
            try {
                Thread.sleep(options.heartbeat().toMillis());
                Runtime jvm = Runtime.getRuntime();
                control.send(ControlMessage.of(MessageType.HEARTBEAT, Long.toString(requests.get() - warmUp.served()),
                        Long.toString(jvm.totalMemory() - jvm.freeMemory()), Long.toString(jvm.maxMemory())));
            } catch (InterruptedException | IOException e) {
                return; // the control connection is gone; readControl handles that
            }
        }
    }

    /** Follows the supervisor's commands; end of stream means it died, so the worker must go too. */
    private void readControl() {
        String gone = "the supervisor is gone (control socket closed)";
        try {
            ControlMessage message;
            while ((message = control.receive()) != null) {
                if (message.type() == MessageType.STOP) {
                    closeIdle = message.args().size() > 1 && MessageType.CLOSE_IDLE.equals(message.arg(1));
                    // The supervisor kills at the deadline itself; halting ourselves a little later is
                    // only a backstop, so a stuck worker is seen (and logged) as killed by its supervisor.
                    stop(Duration.ofMillis(Long.parseLong(message.arg(0))), SUPERVISOR_KILL_GRACE, closeIdle
                            ? "the supervisor asked, after its lame-duck period (idle kept-alive connections are ended)"
                            : "the supervisor asked");
                } else if (message.type() == MessageType.REOPEN) {
                    reopenLog();
                } else if (message.type() == MessageType.PROMOTE && promoted.getCount() > 0) {
                    id = Integer.parseInt(message.arg(0));
                    WorkerLog.setWorkerId(id);
                    takeListeners(message.args().subList(1, message.args().size()));
                    WorkerLog.info("promoted from spare: got " + listeners.size() + " listener(s)");
                } else {
                    WorkerLog.info("ignoring unexpected control message " + message.type());
                }
            }
        } catch (IOException | NumberFormatException e) {
            gone = "the supervisor is gone (" + e.getMessage() + ")";
        } finally {
            control.close();
        }
        stop(ORPHAN_STOP_TIME, Duration.ZERO, gone);
    }

    private void reopenLog() {
        if (options.logFile() == null) {
            return;
        }
        try {
            StdStreams.reopen(options.logFile());
            WorkerLog.info("reopened " + options.logFile());
        } catch (IOException e) {
            WorkerLog.info("cannot reopen " + options.logFile() + ": " + e.getMessage());
        }
    }

    /** See {@link WorkerStop#stop}. */
    void stop(Duration timeLeft, Duration haltGrace, String reason) {
        stop.stop(timeLeft, haltGrace, reason);
    }

    /** See {@link Prefork#stopAccepting()}; returns how many fds it took, 0 if done before. */
    int stopAccepting() throws IOException {
        if (!withdrawn.compareAndSet(false, true)) {
            return 0;
        }
        try {
            accepted.learnListeners();  // while this worker still holds them: the supervisor may die next
        } catch (IOException e) {
            WorkerLog.info("cannot read the listeners' addresses from /proc: " + e.getMessage());
        }
        return ListenerWithdrawal.withdraw(listenerSockets, supervisorDirectory);
    }

    /**
     * See {@link Prefork#awaitConnectionsClosed(Duration)}. After a lame-duck period (STOP's
     * close-idle) no balancer sends on a kept-alive connection any more, and one that stays idle
     * would hold the drain to its deadline (HAProxy keeps some open to a host it took out): each is
     * ended once it is idle, as for an app that knows nothing of prefork.
     */
    boolean awaitConnectionsClosed(Duration timeLeft) throws InterruptedException {
        if (!closeIdle) {
            return accepted.awaitClosed(timeLeft);
        }
        try {
            return accepted.closeWhenIdle(timeLeft) == 0;
        } catch (IOException e) {
            WorkerLog.info("cannot read the connections from /proc: " + e.getMessage() + "; not waiting");
            return false;
        }
    }

    /** The connections accepted on this worker's listeners, as the kernel reports them. */
    AcceptedConnections acceptedConnections() {
        return accepted;
    }
}
