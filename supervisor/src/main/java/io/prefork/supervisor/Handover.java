package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;

/**
 * Upgrading the supervisor itself ({@code ctl upgrade}, SIGUSR2), the old supervisor's side: start
 * the new one, hand it the listening sockets when it connects, and when it says READY, hand over
 * and stop; if it fails first, or takes too long, kill it and go on serving as if nothing happened.
 * At most one at a time. Loop thread only.
 */
public final class Handover {
    /** Starts the new supervisor (the upgrade edge does: the prefork script on disk now). */
    public interface Starter {
        Attempt start() throws IOException;
    }

    /** One upgrade under way: the new supervisor's process and the socket it talks to us on. */
    public interface Attempt {
        long pid();

        void sendListeners(Sockets sockets) throws IOException;

        /** Gives up: kills the new supervisor (its workers follow, as their control sockets close). */
        void abandon();

        /** It took over: only the channel closes. */
        void finish();
    }

    /**
     * Every listening socket, as the new supervisor gets them: {@code first}, one per -b (slot 1's in
     * reuseport mode), and the sockets of each other slot that has its own.
     */
    public record Sockets(List<Handoff> first, SortedMap<Integer, List<Handoff>> slots) {
        int count() {
            return first.size() + slots.values().stream().mapToInt(List::size).sum();
        }
    }

    private final ListenerSource listeners;
    private final Log log;
    private Starter starter;
    private Attempt attempt;
    private final List<CompletableFuture<AdminReply>> waiters = new ArrayList<>();
    private long deadline = Long.MAX_VALUE;
    private boolean handedOver;

    Handover(ListenerSource listeners, Log log) {
        this.listeners = listeners;
        this.log = log;
    }

    void setStarter(Starter starter) {
        this.starter = starter;
    }

    boolean handedOver() {
        return handedOver;
    }

    /** @param patience how long the new supervisor may take to be READY */
    void request(String why, CompletableFuture<AdminReply> waiter, long now, Duration patience) {
        if (waiter != null) {
            waiters.add(waiter);
        }
        if (attempt != null) {
            log.info(why + ": an upgrade is already under way (pid " + attempt.pid() + ")");
            return;
        }
        if (starter == null) {
            fail(why + ": this supervisor cannot upgrade itself (not started by prefork's Main)");
            return;
        }
        try {
            attempt = starter.start();
        } catch (IOException e) {
            fail("cannot start the new supervisor: " + e.getMessage());
            return;
        }
        deadline = now + patience.toNanos();
        log.info("upgrade (" + why + "): started the new supervisor, pid " + attempt.pid()
                + "; this one serves until its workers are READY");
    }

    void connected() {
        if (attempt == null) {
            return;
        }
        try {
            Sockets sockets = new Sockets(listeners.forSlot(1), listeners.ownSockets());
            attempt.sendListeners(sockets);
            log.info("upgrade: handed " + sockets.count() + " listening socket(s) to pid " + attempt.pid()
                    + (sockets.slots().isEmpty() ? "" : " (reuseport: the sockets of " + (sockets.slots().size() + 1) + " slots)"));
        } catch (IOException e) {
            fail("cannot hand the listeners over: " + e.getMessage());
        }
    }

    /** Returns the new supervisor's pid when this message was its READY: the loop hands over and stops. */
    long message(ControlMessage m) {
        if (attempt == null) {
            return -1;
        }
        switch (m.type()) {
            case READY -> {
                return succeed();
            }
            case FAILED -> fail("the new supervisor failed: " + (m.args().isEmpty() ? "no reason given" : String.join(" ", m.args())));
            default -> log.warn("upgrade: unexpected " + m.type() + " from pid " + attempt.pid());
        }
        return -1;
    }

    void ended(String why) {
        if (attempt != null) {
            fail(why + " before it was READY");
        }
    }

    void tick(long now) {
        if (attempt != null && now >= deadline) {
            fail("the new supervisor was not READY in time; killed it");
        }
    }

    long nextDue() {
        return attempt == null ? Long.MAX_VALUE : deadline;
    }

    /** We are stopping for another reason: the new supervisor goes too. */
    void cancel() {
        if (attempt != null) {
            fail("the supervisor is stopping");
        }
    }

    private long succeed() {
        long pid = attempt.pid();
        attempt.finish();
        attempt = null;
        handedOver = true;
        String text = "upgraded: the new supervisor, pid " + pid + ", serves now; pid " + ProcessHandle.current().pid()
                + " stops its workers and exits";
        log.info(text);
        reply(AdminReply.ok(text));
        return pid;
    }

    private void fail(String reason) {
        if (attempt != null) {
            attempt.abandon();
            attempt = null;
        }
        deadline = Long.MAX_VALUE;
        String text = "upgrade failed: " + reason + "; this supervisor keeps serving";
        log.error(text);
        reply(AdminReply.error(text));
    }

    private void reply(AdminReply reply) {
        waiters.forEach(w -> w.complete(reply));
        waiters.clear();
    }
}
