package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.time.Duration;

/** The supervisor's record of one worker process. Only the loop thread touches it. */
public final class Worker {
    /** The slot; 0 while the worker is a hot spare. */
    private int id;
    private final String token;
    private final WorkerProcess process;
    /** Since when it runs: its start, or for a promoted spare, its promotion. */
    private long startedAt;
    private final long requestLimit;
    private WorkerState state = WorkerState.STARTING;
    private WorkerConnection connection;
    private long readyAt = -1;
    private long lastHeartbeat;
    private long requests;
    private String bootError;
    private String killReason;
    private boolean recycleWanted;
    private long dumpRequestedAt = -1;
    private boolean parked;
    private boolean settled;
    private boolean wasSpare;
    /** --worker-start trained: the archive whose cache this worker records as it serves; else null. */
    private WorkerArchive recording;
    /** From the last heartbeat that told them (a JVM worker's), in bytes; -1 until then. */
    private long heapUsed = -1;
    private long heapMax = -1;
    private boolean terminateSent;
    private boolean killSent;
    private WorkerRole role;
    /** Since when it boots at a lower CPU priority (--boot-nice, see {@link YieldingBoots}); -1 when it does not. */
    private long yieldingSince = -1;

    Worker(int id, WorkerRole role, String token, WorkerProcess process, long startedAt, long requestLimit) {
        this.id = id;
        this.role = role;
        this.token = token;
        this.process = process;
        this.startedAt = startedAt;
        this.requestLimit = requestLimit;
        this.lastHeartbeat = startedAt;
        this.yieldingSince = process.yieldsCpu() ? startedAt : -1;
    }

    public int id() {
        return id;
    }

    public long pid() {
        return process.pid();
    }

    public WorkerState state() {
        return state;
    }

    String token() {
        return token;
    }

    WorkerProcess process() {
        return process;
    }

    long startedAt() {
        return startedAt;
    }

    long readyAt() {
        return readyAt;
    }

    boolean wasReady() {
        return readyAt >= 0;
    }

    WorkerConnection connection() {
        return connection;
    }

    String bootError() {
        return bootError;
    }

    void setBootError(String reason) {
        if (bootError == null) {
            bootError = reason;
        }
    }

    void attach(WorkerConnection c) {
        connection = c;
    }

    /** What it is there for; only the pool changes it (see {@link WorkerRole}). */
    public WorkerRole role() {
        return role;
    }

    void becomes(WorkerRole next) {
        role = next;
    }

    /** A spare becomes the worker of slot {@code slotId}, as {@code next}; from here on it is logged as such. */
    void promoteTo(int slotId, WorkerRole next, long now) {
        wasSpare = true;
        id = slotId;
        role = next;
        startedAt = now;
    }

    boolean yieldsCpu() {
        return yieldingSince >= 0;
    }

    long yieldingSince() {
        return yieldingSince;
    }

    /** For the log line that says it started: how it boots. */
    String bootPriority() {
        return yieldsCpu() ? ", at a lower CPU priority while others serve (--boot-nice)" : "";
    }

    /** Lifts it back to the supervisor's CPU priority. */
    void stopYielding(String why, Log log) {
        yieldingSince = -1;
        try {
            process.stopYielding();
            log.info(this + ": back at the normal CPU priority (" + why + ")");
        } catch (IOException e) {
            log.warn(this + ": could not lift it back to the normal CPU priority: " + e.getMessage());
        }
    }

    boolean parked() {
        return parked;
    }

    void markParked() {
        parked = true;
    }

    void markReady(long now) {
        readyAt = now;
        lastHeartbeat = now;
    }

    void heartbeat(long now, long requestCount) {
        lastHeartbeat = now;
        requests = requestCount;
        settled |= state == WorkerState.READY;
    }

    /** Whether its JVM boots now: started, and neither serving nor parked yet (a promoted spare only opens its connectors). */
    boolean bootsItsJvm() {
        return state == WorkerState.STARTING || state == WorkerState.SPARE && !parked || state == WorkerState.BOOTING && !wasSpare;
    }

    /** Started as a hot spare and promoted. */
    boolean wasSpare() {
        return wasSpare;
    }

    /** READY and has sent a heartbeat since: its first moments of serving are behind it. */
    boolean settled() {
        return settled;
    }

    void heap(long used, long max) {
        heapUsed = used;
        heapMax = max;
    }

    long heapUsed() {
        return heapUsed;
    }

    long heapMax() {
        return heapMax;
    }

    long lastHeartbeat() {
        return lastHeartbeat;
    }

    /** This worker records the archive's cache (it was started with the recorder's options); the archive hears so. */
    void records(WorkerArchive archive) {
        recording = archive;
        archive.recordingStarted();
    }

    WorkerArchive recording() {
        return recording;
    }

    long requests() {
        return requests;
    }

    long requestLimit() {
        return requestLimit;
    }

    boolean recycleWanted() {
        return recycleWanted;
    }

    void wantRecycle() {
        recycleWanted = true;
    }

    long dumpRequestedAt() {
        return dumpRequestedAt;
    }

    /** Thaws the JVM if it is stopped and asks it for a thread dump (SIGQUIT), which it prints to stdout. */
    void requestThreadDump(long now) {
        dumpRequestedAt = now;
        process.signal(io.prefork.unix.Linux.SIGCONT);
        process.signal(io.prefork.unix.Linux.SIGQUIT);
    }

    /** Why the supervisor killed it, for the exit log line; null if it did not. */
    String killReason() {
        return killReason;
    }

    /** SIGTERM at most once: nginx's "exiting" flag, against gunicorn's double-signal bug. */
    void terminate() {
        if (!terminateSent && !killSent) {
            terminateSent = true;
            process.terminate();
        }
    }

    void kill(String reason) {
        if (!killSent) {
            killSent = true;
            killReason = reason;
            process.kill();
        }
    }

    boolean killSent() {
        return killSent;
    }

    /**
     * Graceful stop: STOP with the time left over the control channel, or SIGTERM if it has not
     * connected (or the channel broke). Only once: a DRAINING worker is not asked again.
     */
    void askToStop(Duration timeLeft, String why, Log log) {
        askToStop(timeLeft, false, why, log);
    }

    /**
     * As above; with {@code closeIdle}, the server was out of rotation (its lame-duck period): the
     * worker may end each kept-alive connection once it is idle, as no balancer sends on it any more.
     */
    void askToStop(Duration timeLeft, boolean closeIdle, String why, Log log) {
        if (state == WorkerState.DRAINING || state == WorkerState.EXITED) {
            return;
        }
        if (connection != null) {
            try {
                String millis = Long.toString(timeLeft.toMillis());
                connection.send(closeIdle ? ControlMessage.of(MessageType.STOP, millis, MessageType.CLOSE_IDLE)
                        : ControlMessage.of(MessageType.STOP, millis));
                transitionTo(WorkerState.DRAINING, "sent STOP: " + why, log);
                return;
            } catch (IOException e) {
                log.warn(this + ": could not send STOP (" + e.getMessage() + "); sending SIGTERM");
            }
        }
        terminate();
        transitionTo(WorkerState.DRAINING, "sent SIGTERM: " + why, log);
    }

    /** Moves to {@code next} if that is legal, and logs the transition with id, pid and why. */
    void transitionTo(WorkerState next, String why, Log log) {
        if (!state.canMoveTo(next)) {
            throw new IllegalStateException(this + ": illegal transition " + state + " -> " + next);
        }
        log.info(this + ": " + state + " -> " + next + (why == null ? "" : " (" + why + ")"));
        state = next;
        if (next == WorkerState.EXITED && connection != null) {
            connection.close();
        }
    }

    @Override
    public String toString() {
        // Without a slot (id 0) it is named by what it was started as: a spare, or the training run.
        return (id != 0 ? "worker " + id : role == WorkerRole.TRAINER ? "trainer" : "spare") + " (pid " + pid() + ")";
    }
}
