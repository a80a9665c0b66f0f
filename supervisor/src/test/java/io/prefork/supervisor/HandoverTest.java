package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The old supervisor's side of an upgrade, with a fake new supervisor. */
class HandoverTest {
    /** A new supervisor that does whatever the test says. */
    static final class FakeAttempt implements Handover.Attempt {
        final List<Handover.Sockets> sent = new ArrayList<>();
        boolean abandoned;
        boolean finished;

        @Override
        public long pid() {
            return 4242;
        }

        @Override
        public void sendListeners(Handover.Sockets sockets) {
            sent.add(sockets);
        }

        @Override
        public void abandon() {
            abandoned = true;
        }

        @Override
        public void finish() {
            finished = true;
        }
    }

    private final Fakes.Lines lines = new Fakes.Lines();
    private final List<FakeAttempt> started = new ArrayList<>();
    private final List<Long> handedOverTo = new ArrayList<>();
    private final Handover.Sockets listeners = new Handover.Sockets(List.of(new Handoff("127.0.0.1:8080", 7)),
            new java.util.TreeMap<>(java.util.Map.of(2, List.of(new Handoff("127.0.0.1:8080", 9)))));
    private final Handover upgrades = new Handover(new ListenerSource() {
        @Override
        public List<Handoff> forSlot(int slotId) {
            return listeners.first();
        }

        @Override
        public java.util.SortedMap<Integer, List<Handoff>> ownSockets() {
            return listeners.slots();
        }
    }, lines.log);

    HandoverTest() {
        upgrades.setStarter(() -> {
            FakeAttempt a = new FakeAttempt();
            started.add(a);
            return a;
        });
    }

    /** A message from the new supervisor; the loop hands over when it returns a pid. */
    private void message(ControlMessage m) {
        long pid = upgrades.message(m);
        if (pid > 0) {
            handedOverTo.add(pid);
        }
    }

    private CompletableFuture<AdminReply> request(long now) {
        CompletableFuture<AdminReply> reply = new CompletableFuture<>();
        upgrades.request("ctl upgrade", reply, now, Duration.ofSeconds(90));
        return reply;
    }

    @Test
    void theListenersGoOverAndReadyHandsOver() {
        CompletableFuture<AdminReply> reply = request(0);
        assertEquals(1, started.size());
        upgrades.connected();
        assertEquals(List.of(listeners), started.get(0).sent, "the same sockets, handed over");
        assertTrue(lines.text().contains("handed 2 listening socket(s) to pid 4242 (reuseport: the sockets of 2 slots)"), lines.text());
        assertFalse(reply.isDone());
        message(ControlMessage.of(MessageType.READY));
        assertEquals(List.of(4242L), handedOverTo);
        assertTrue(upgrades.handedOver());
        assertTrue(started.get(0).finished && !started.get(0).abandoned);
        assertTrue(reply.join().ok(), reply.join().text());
        assertTrue(reply.join().text().startsWith("upgraded: the new supervisor, pid 4242, serves now"));
        upgrades.ended("the new supervisor exited with code 0");
        assertTrue(reply.join().ok(), "its later exit is none of our business");
    }

    @Test
    void aFailedNewSupervisorIsAbandonedAndTheReasonReported() {
        CompletableFuture<AdminReply> reply = request(0);
        upgrades.connected();
        message(ControlMessage.of(MessageType.FAILED, "workers failed to boot 5 times in a row"));
        assertTrue(started.get(0).abandoned);
        assertEquals(List.of(), handedOverTo, "no hand-over: this supervisor serves on");
        assertFalse(upgrades.handedOver());
        assertEquals("upgrade failed: the new supervisor failed: workers failed to boot 5 times in a row;"
                + " this supervisor keeps serving", reply.join().text());
        assertFalse(reply.join().ok());
    }

    @Test
    void anExitBeforeReadyOrTheDeadlineIsAFailure() {
        CompletableFuture<AdminReply> exited = request(0);
        upgrades.ended("the new supervisor exited with code 2");
        assertEquals("upgrade failed: the new supervisor exited with code 2 before it was READY; this supervisor"
                + " keeps serving", exited.join().text());

        CompletableFuture<AdminReply> slow = request(0);
        upgrades.tick(TimeUnit.SECONDS.toNanos(89));
        assertFalse(slow.isDone());
        assertEquals(TimeUnit.SECONDS.toNanos(90), upgrades.nextDue());
        upgrades.tick(TimeUnit.SECONDS.toNanos(90));
        assertTrue(started.get(1).abandoned, "killed at the deadline");
        assertTrue(slow.join().text().contains("was not READY in time"), slow.join().text());
        assertEquals(Long.MAX_VALUE, upgrades.nextDue());
    }

    @Test
    void aSecondRequestJoinsTheFirst() {
        CompletableFuture<AdminReply> first = request(0);
        CompletableFuture<AdminReply> second = request(1);
        assertEquals(1, started.size(), "one new supervisor");
        upgrades.connected();
        message(ControlMessage.of(MessageType.READY));
        assertTrue(first.join().ok() && second.join().ok());
    }

    @Test
    void aStartThatFailsIsReportedAtOnce() {
        upgrades.setStarter(() -> {
            throw new IOException("cannot find scripts/prefork");
        });
        CompletableFuture<AdminReply> reply = request(0);
        assertEquals("upgrade failed: cannot start the new supervisor: cannot find scripts/prefork; this supervisor"
                + " keeps serving", reply.join().text());
        upgrades.cancel();
        assertEquals(Long.MAX_VALUE, upgrades.nextDue());
    }
}
