package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Hot spares (--spares): booted without sockets, promoted at once, replaced once the promoted one has settled. */
@Timeout(10)
class SparesTest extends SupervisorTestBase {
    private Settings settings(int workers) {
        return Settings.defaults(workers).withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(3))
                .withBootsAtOnce(ALL_AT_ONCE);
    }

    /** A spare that has said hello and parked. */
    private Fakes.Connection park(Fakes.Process spare) throws InterruptedException {
        Fakes.Connection c = new Fakes.Connection(spare.pid);
        supervisor.post(new Event.Hello(c, spare.token));
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.PARKED)));
        step();
        return c;
    }

    @Test
    void aSpareBootsWithoutSocketsAndIsPromotedTheMomentAWorkerDies() throws Exception {
        start(settings(1).withSpares(1));
        assertEquals(2, launcher.launched.size());
        Fakes.Process worker = launcher.launched.get(0);
        Fakes.Process spare = launcher.launched.get(1);
        assertEquals(0, spare.workerId, "a spare has no slot yet");
        bringUp(worker);
        Fakes.Connection spareConn = new Fakes.Connection(spare.pid);
        supervisor.post(new Event.Hello(spareConn, spare.token));
        supervisor.post(new Event.Message(spareConn, ControlMessage.of(MessageType.PARKED)));
        step();
        assertEquals(List.of(ControlMessage.of(MessageType.SPARE)), spareConn.sent, "told it is a spare");
        assertEquals(null, spareConn.fdsSent, "and given no socket");
        assertEquals(WorkerState.SPARE, worker(spare.pid).state());
        assertTrue(logged("spare (pid " + spare.pid + "): parked"), lines.text());

        worker.exit(137);
        step();
        assertEquals(ControlMessage.of(MessageType.PROMOTE, "1", "127.0.0.1:8080", "unix:/run/a b.sock"),
                spareConn.sent.get(1));
        assertEquals(List.of(7, 9), java.util.Arrays.stream(spareConn.fdsSent).boxed().toList());
        assertEquals(WorkerState.BOOTING, worker(spare.pid).state());
        assertEquals(1, worker(spare.pid).id());
        assertEquals(2, launcher.launched.size(), "no new JVM takes a core while the promoted one starts serving");
        supervisor.post(new Event.Message(spareConn, ControlMessage.of(MessageType.READY)));
        step();
        assertEquals(1, supervisor.pool().readyCount());
        assertTrue(logged("worker 1 (pid " + spare.pid + "): BOOTING -> READY"), lines.text());
        assertEquals(2, launcher.launched.size(), "nor in its first moments of serving");
        supervisor.post(new Event.Message(spareConn, ControlMessage.of(MessageType.HEARTBEAT, "3")));
        step();
        assertEquals(3, launcher.launched.size(), "once it has settled (a heartbeat since READY), a new spare boots");
        assertEquals(0, launcher.last().workerId);
    }

    @Test
    void aRollPromotesSparesAsSuccessors() throws Exception {
        start(settings(1).withSpares(1));
        Fakes.Process old = launcher.launched.get(0);
        bringUp(old);
        Fakes.Process spare = launcher.launched.get(1);
        Fakes.Connection spareConn = new Fakes.Connection(spare.pid);
        supervisor.post(new Event.Hello(spareConn, spare.token));
        step();
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertEquals(MessageType.PROMOTE, spareConn.sent.get(1).type());
        supervisor.post(new Event.Message(spareConn, ControlMessage.of(MessageType.READY)));
        step();
        assertEquals(WorkerState.DRAINING, worker(old.pid).state());
        assertTrue(logged("rolling restart done: 1 worker(s) replaced"), lines.text());
    }

    @Test
    void aSpareThatDiesBeforePromotionCountsAsABootFailure() throws Exception {
        start(settings(1).withSpares(1));
        bringUp(launcher.launched.get(0));
        Fakes.Process spare = launcher.launched.get(1);
        spare.exit(3);
        step();
        assertTrue(logged("spare (pid " + spare.pid + "): failed before it was promoted: exited with code 3"), lines.text());
        assertEquals(3, launcher.launched.size(), "replaced at once the first time");
        launcher.last().exit(3);
        step();
        assertEquals(3, launcher.launched.size(), "then after a backoff");
        clock.advanceMillis(100);
        step();
        assertEquals(4, launcher.launched.size());
    }


    @Test
    void withASpareDelayThePromotedSpareServesAloneThatLongBeforeTheNextSpareBoots() throws Exception {
        start(settings(1).withSpares(1).withSpareDelay(Duration.ofSeconds(5)));
        Fakes.Process worker = launcher.launched.get(0);
        bringUp(worker);
        Fakes.Connection spare = park(launcher.launched.get(1));
        worker.exit(137);
        step();
        supervisor.post(new Event.Message(spare, ControlMessage.of(MessageType.READY)));
        supervisor.post(new Event.Message(spare, ControlMessage.of(MessageType.HEARTBEAT, "3")));
        step();
        assertEquals(1, supervisor.pool().readyCount());
        assertEquals(2, launcher.launched.size(), "settled, but it has not served --spare-delay yet");
        clock.advanceMillis(4_900);
        supervisor.post(new Event.Message(spare, ControlMessage.of(MessageType.HEARTBEAT, "9")));
        step();
        assertEquals(2, launcher.launched.size(), "4.9 s after its READY");
        clock.advanceMillis(100);
        step();
        assertEquals(3, launcher.launched.size(), "5 s after its READY, the next spare boots");
        assertEquals(0, launcher.last().workerId);
    }
}
