package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The supervisor's side of the control protocol (PROTOCOL.md), on the loop thread: HELLO with the
 * worker's token, then FDS (or SPARE, and PROMOTE later), READY, HEARTBEAT, RECYCLE, BOOT_ERROR and
 * PARKED from the worker; STOP and REOPEN to it. {@code ControlMessage} is the codec.
 */
public final class WorkerChannel {
    private final WorkerPool pool;
    private final ListenerSource listeners;
    private final Log log;

    WorkerChannel(WorkerPool pool, ListenerSource listeners, Log log) {
        this.pool = pool;
        this.listeners = listeners;
        this.log = log;
    }

    /** A worker's first words: its token proves which launch it is; it gets its sockets, or SPARE. */
    void hello(WorkerConnection connection, String token, boolean shuttingDown) {
        Worker worker = withToken(token);
        String refusal = worker == null ? "unknown token"
                : worker.state() != WorkerState.STARTING ? "token already used"
                : worker.pid() != connection.peerPid() ? "token belongs to pid " + worker.pid()
                : shuttingDown ? "shutting down"
                : null;
        if (refusal != null) {
            log.warn("control: refused a connection from pid " + connection.peerPid()
                    + " (uid " + connection.peerUid() + "): " + refusal);
            connection.close();
            return;
        }
        worker.attach(connection);
        try {
            if (worker.role().bootsWithoutSockets()) {
                connection.send(ControlMessage.of(MessageType.SPARE));
                worker.transitionTo(WorkerState.SPARE, "boots without sockets until promoted", log);
                return;
            }
            sendListeners(worker, MessageType.FDS, worker.id(), listeners);
        } catch (IOException e) {
            log.warn(worker + ": could not send the listeners: " + e.getMessage() + "; killing it");
            connection.close();
            worker.kill("could not send the listeners");
            return;
        }
        worker.transitionTo(WorkerState.BOOTING, "sent its listener(s)", log);
    }

    /** Handles one message; returns the worker if it just became READY, for the loop to act on. */
    Worker message(WorkerConnection connection, ControlMessage message, long now) {
        Worker worker = on(connection);
        if (worker == null) {
            return null; // the worker already exited; its last words do not matter
        }
        try {
            switch (message.type()) {
                case READY -> {
                    return ready(worker, now);
                }
                case HEARTBEAT -> {
                    worker.heartbeat(now, Long.parseLong(message.arg(0)));
                    if (message.args().size() >= 3) {
                        worker.heap(Long.parseLong(message.arg(1)), Long.parseLong(message.arg(2)));
                    }
                }
                case RECYCLE -> {
                    worker.heartbeat(now, Long.parseLong(message.arg(0)));
                    log.info(worker + ": served " + worker.requests() + " requests (limit " + worker.requestLimit()
                            + "); recycling once a replacement is READY");
                    worker.wantRecycle();
                }
                case BOOT_ERROR -> worker.setBootError(message.arg(0));
                case WARMED -> log.info(worker + ": warmed up: " + message.arg(0) + " requests in " + message.arg(1)
                        + " ms, before any real one");
                case PARKED -> parked(worker, now);
                default -> log.warn(worker + ": unexpected control message " + message.type());
            }
        } catch (IOException | NumberFormatException e) {
            log.warn(worker + ": malformed " + message.type() + ": " + e.getMessage());
        }
        return null;
    }

    private Worker ready(Worker worker, long now) {
        if (worker.state() != WorkerState.BOOTING) {
            return null;
        }
        worker.markReady(now);
        worker.transitionTo(WorkerState.READY, "ready in " + Duration.ofNanos(now - worker.startedAt()).toMillis() + " ms", log);
        return worker;
    }

    private void parked(Worker worker, long now) {
        worker.markParked();
        log.info(worker + ": parked, its app booted and waits for sockets ("
                + Duration.ofNanos(now - worker.startedAt()).toMillis() + " ms after start)");
        if (worker.role() == WorkerRole.TRAINER) {
            worker.askToStop(pool.settings().gracefulTimeout(), "class archive training done", log);
        }
    }

    /** USR1: the supervisor reopens its log file (if it has one), then each connected worker does. */
    void reopenLogs(ReopenableLog logFile) {
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

    /** Compares in constant time: the token is a secret. */
    private Worker withToken(String token) {
        byte[] given = token.getBytes(StandardCharsets.UTF_8);
        for (Worker w : pool.workers()) {
            if (MessageDigest.isEqual(given, w.token().getBytes(StandardCharsets.UTF_8))) {
                return w;
            }
        }
        return null;
    }

    private Worker on(WorkerConnection connection) {
        for (Worker w : pool.workers()) {
            if (w.connection() == connection) {
                return w;
            }
        }
        return null;
    }

    /** FDS at the handshake; PROMOTE, which also names the slot, for a spare. */
    static void sendListeners(Worker worker, MessageType type, int slotId, ListenerSource listeners) throws IOException {
        List<Handoff> handoffs = listeners.forSlot(slotId);
        int[] fds = handoffs.stream().mapToInt(Handoff::fd).toArray();
        List<String> args = new ArrayList<>();
        if (type == MessageType.PROMOTE) {
            args.add(Integer.toString(slotId));
        }
        handoffs.forEach(h -> args.add(h.address()));
        worker.connection().sendWithFds(new ControlMessage(type, args), fds);
    }
}
