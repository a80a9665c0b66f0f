package io.prefork.worker;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.ProtocolException;
import io.prefork.protocol.WorkerExitCodes;
import io.prefork.unix.Posix;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** The worker side of one control connection: listeners, readiness, heartbeats, and the stop sequence. */
final class WorkerRuntime {
    /** What the supervisor told this worker through its environment. */
    record Options(long maxRequests, Duration heartbeat, String logFile) {
    }

    /**
     * How long a worker may drain once its supervisor has died. Orphans must be gone within 2 s;
     * EOF arrives some 10-100 ms after the death and the JVM needs time to exit, hence 1 s.
     */
    static final Duration ORPHAN_STOP_TIME = Duration.ofSeconds(1);
    static final Duration SUPERVISOR_KILL_GRACE = Duration.ofSeconds(2);

    private final int id;
    private final Options options;
    private final ControlSocket control;
    private final List<InheritedListener> listeners;
    private final Set<String> listenerSockets;
    private final List<StopHandler> stopHandlers = new CopyOnWriteArrayList<>();
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicBoolean recycleAsked = new AtomicBoolean();
    /** System.nanoTime() by which the stop handlers must be done; only ever moves earlier. */
    private volatile long deadline = Long.MAX_VALUE;
    /** System.nanoTime() at which the watchdog halts the JVM; only ever moves earlier. */
    private volatile long haltAt = Long.MAX_VALUE;

    private WorkerRuntime(int id, Options options, ControlSocket control, List<String> addresses, List<Integer> fds) {
        this.id = id;
        this.options = options;
        this.control = control;
        List<InheritedListener> list = new ArrayList<>();
        Set<String> sockets = new HashSet<>();
        for (int i = 0; i < fds.size(); i++) {
            list.add(new ReceivedListener(i, addresses.get(i), fds.get(i)));
            sockets.add(AutoReady.identity(fds.get(i)));
        }
        this.listeners = List.copyOf(list);
        this.listenerSockets = Set.copyOf(sockets);
    }

    /** Says hello with the token, receives the listeners, and makes listener 0 the inherited channel. */
    static WorkerRuntime connect(int id, Options options, String socketPath, String token) throws IOException {
        ControlSocket control = ControlSocket.connect(socketPath);
        control.send(ControlMessage.of(MessageType.HELLO, token));
        ControlMessage fdsMessage = control.receive();
        if (fdsMessage == null) {
            throw new IOException("the supervisor closed the control connection during the handshake");
        }
        if (fdsMessage.type() != MessageType.FDS) {
            throw new ProtocolException("expected FDS, got " + fdsMessage.type());
        }
        List<Integer> fds = control.takeReceivedFds();
        if (fds.size() != fdsMessage.args().size() || fds.isEmpty()) {
            throw new ProtocolException("FDS named " + fdsMessage.args().size() + " listeners but "
                    + fds.size() + " fds arrived");
        }
        Posix.dup2(fds.get(0), 0);
        return new WorkerRuntime(id, options, control, fdsMessage.args(), fds);
    }

    int id() {
        return id;
    }

    List<InheritedListener> listeners() {
        return listeners;
    }

    /** {@code socket:[inode]} of each listener: what auto readiness looks for. */
    Set<String> listenerSockets() {
        return listenerSockets;
    }

    boolean isReady() {
        return ready.get();
    }

    boolean isStopping() {
        return stopping.get();
    }

    long requests() {
        return requests.get();
    }

    /** Counts one finished request; at the limit, asks the supervisor once for a replacement. */
    void requestDone() {
        long n = requests.incrementAndGet();
        if (options.maxRequests() > 0 && n >= options.maxRequests() && recycleAsked.compareAndSet(false, true)) {
            WorkerLog.info("served " + n + " requests, the limit; asking to be recycled");
            sendQuietly(ControlMessage.of(MessageType.RECYCLE, Long.toString(n)));
        }
    }

    void addStopHandler(StopHandler handler) {
        stopHandlers.add(handler);
    }

    void markReady(String how) {
        if (stopping.get() || !ready.compareAndSet(false, true)) {
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

    private void sendQuietly(ControlMessage message) {
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
                control.send(ControlMessage.of(MessageType.HEARTBEAT, Long.toString(requests.get())));
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
                    // The supervisor kills at the deadline itself; halting ourselves a little later is
                    // only a backstop, so a stuck worker is seen (and logged) as killed by its supervisor.
                    stop(Duration.ofMillis(Long.parseLong(message.arg(0))), SUPERVISOR_KILL_GRACE, "the supervisor asked");
                } else if (message.type() == MessageType.REOPEN) {
                    reopenLog();
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

    /**
     * Runs the stop handlers, then exits 0. With no handler registered, exits at once so the app's
     * own shutdown hooks do the stopping. A watchdog halts the JVM {@code haltGrace} after the
     * deadline if the handlers are not done by then. A second call while stopping can only bring
     * both closer (the supervisor died mid-drain).
     */
    void stop(Duration timeLeft, Duration haltGrace, String reason) {
        long requested = System.nanoTime() + timeLeft.toNanos();
        if (!stopping.compareAndSet(false, true)) {
            if (requested + haltGrace.toNanos() < haltAt) {
                deadline = Math.min(deadline, requested);
                haltAt = requested + haltGrace.toNanos();
                WorkerLog.info("still stopping, now with " + timeLeft.toMillis() + " ms left: " + reason);
            }
            return;
        }
        deadline = requested;
        haltAt = requested + haltGrace.toNanos();
        WorkerLog.info("stopping: " + reason + "; " + timeLeft.toMillis() + " ms to finish");
        Thread watchdog = new Thread(this::haltWhenDue, "prefork-stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        Thread stopper = new Thread(this::runStopHandlers, "prefork-stop");
        stopper.start();
    }

    private void runStopHandlers() {
        if (stopHandlers.isEmpty()) {
            WorkerLog.info("no stop handler registered; exiting, the app's shutdown hooks run");
        }
        for (StopHandler handler : stopHandlers) {
            try {
                handler.stop(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            } catch (Exception e) {
                WorkerLog.info("stop handler failed: " + e);
            }
        }
        StdStreams.restore();
        WorkerLog.info("stopped");
        System.exit(0);
    }

    private void haltWhenDue() {
        long left;
        while ((left = haltAt - System.nanoTime()) > 0) {
            try {
                // Short naps: the deadline may move closer while we wait.
                Thread.sleep(Math.max(1, Math.min(50, left / 1_000_000)));
            } catch (InterruptedException e) {
                return;
            }
        }
        StdStreams.restore();
        WorkerLog.info("did not stop within the deadline; halting");
        Runtime.getRuntime().halt(WorkerExitCodes.STOP_TIMEOUT);
    }
}
