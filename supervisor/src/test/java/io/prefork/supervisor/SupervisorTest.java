package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.WorkerExitCodes;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The supervisor's state machine, driven through fakes: crashes, timeouts and stops in milliseconds. */
@Timeout(10)
class SupervisorTest extends SupervisorTestBase {
    @Test
    void startsOneWorkerPerSlotWithItsOwnToken() throws Exception {
        start(3);
        assertEquals(3, launcher.launched.size());
        assertEquals(List.of(1, 2, 3), launcher.launched.stream().map(p -> p.workerId).toList());
        assertEquals(3, launcher.launched.stream().map(p -> p.token).distinct().count());
        assertTrue(launcher.launched.stream().allMatch(p -> p.token.length() == 32));
        assertTrue(List.copyOf(supervisor.pool().workers()).stream().allMatch(w -> w.state() == WorkerState.STARTING));
    }

    @Test
    void onASmallMachineWorkerJvmsBootOneAfterAnotherAndASpareLast() throws Exception {
        start(Settings.defaults(3).withSpares(1).withBootsAtOnce(1));
        assertEquals(List.of(1), launcher.launched.stream().map(p -> p.workerId).toList(), "one JVM boots at a time");
        step();
        assertEquals(1, launcher.launched.size(), "the others wait while it boots, however often the loop looks");
        assertEquals(Long.MAX_VALUE, supervisor.pool().nextStart(Long.MAX_VALUE), "and no start is due meanwhile: the loop sleeps");

        Fakes.Connection first = new Fakes.Connection(launcher.last().pid);
        supervisor.post(new Event.Hello(first, launcher.last().token));
        step();
        assertEquals(1, launcher.launched.size(), "BOOTING is still booting");
        supervisor.post(new Event.Message(first, ControlMessage.of(MessageType.READY)));
        step();
        assertEquals(List.of(1, 2), launcher.launched.stream().map(p -> p.workerId).toList(), "the next one once it is READY");

        launcher.last().exit(1);  // a boot that fails frees the turn as well
        step();
        clock.advanceMillis(60_000);
        step();
        assertEquals(List.of(1, 2, 2), launcher.launched.stream().map(p -> p.workerId).toList());
        bringUp(launcher.last());
        assertEquals(List.of(1, 2, 2, 3), launcher.launched.stream().map(p -> p.workerId).toList());
        bringUp(launcher.last());
        assertEquals(List.of(1, 2, 2, 3, 0), launcher.launched.stream().map(p -> p.workerId).toList(),
                "the spare boots last, when every slot serves");
    }

    @Test
    void helloWithTheRightTokenGetsTheListenersThenReadyCounts() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        Fakes.Connection c = new Fakes.Connection(p.pid);
        supervisor.post(new Event.Hello(c, p.token));
        step();
        assertEquals(WorkerState.BOOTING, worker(p.pid).state());
        assertArrayEquals(new int[] {7, 9}, c.fdsSent);
        assertEquals(ControlMessage.of(MessageType.FDS, "127.0.0.1:8080", "unix:/run/a b.sock"), c.sent.get(0));
        assertEquals(0, supervisor.pool().readyCount());

        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.READY)));
        step();
        assertEquals(WorkerState.READY, worker(p.pid).state());
        assertEquals(1, supervisor.pool().readyCount());
        assertTrue(lines.text().contains("worker 1 (pid " + p.pid + "): BOOTING -> READY"), lines.text());
    }

    @Test
    void aWrongTokenOrAWrongPidGetsNothing() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        Fakes.Connection stranger = new Fakes.Connection(4242);
        supervisor.post(new Event.Hello(stranger, "not-the-token"));
        Fakes.Connection impostor = new Fakes.Connection(4243);
        supervisor.post(new Event.Hello(impostor, p.token));
        step();
        assertTrue(stranger.closed && impostor.closed);
        assertNull(stranger.fdsSent);
        assertNull(impostor.fdsSent);
        assertEquals(WorkerState.STARTING, worker(p.pid).state());
        assertTrue(lines.text().contains("refused a connection from pid 4242 (uid 0): unknown token"), lines.text());
        assertTrue(lines.text().contains("refused a connection from pid 4243 (uid 0): token belongs to pid " + p.pid));
    }

    @Test
    void aTokenWorksOnlyOnce() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        bringUp(p);
        Fakes.Connection again = new Fakes.Connection(p.pid);
        supervisor.post(new Event.Hello(again, p.token));
        step();
        assertTrue(again.closed);
        assertNull(again.fdsSent);
    }

    @Test
    void aCrashedWorkerIsReplacedAtOnceThenAfterTheBackoffAndTheCauseIsLogged() throws Exception {
        start(2);
        Fakes.Process p = launcher.launched.get(0);
        bringUp(p);
        bringUp(launcher.launched.get(1));
        p.exit(137);
        step();
        assertTrue(lines.text().contains("worker 1 (pid " + p.pid + "): READY -> EXITED (killed by SIGKILL (possibly out of memory))"), lines.text());
        assertTrue(lines.text().contains("worker 1: restarting in 0 ms"));
        assertEquals(3, launcher.launched.size(), "an isolated crash is replaced at once");
        Fakes.Process second = launcher.last();
        assertEquals(1, second.workerId);
        assertNotEquals(p.pid, second.pid);
        bringUp(second);
        second.exit(1);
        step();
        assertTrue(lines.text().contains("worker 1: restarting in 100 ms"), lines.text());
        clock.advanceMillis(99);
        step();
        assertEquals(3, launcher.launched.size(), "not before the backoff");
        clock.advanceMillis(1);
        step();
        assertEquals(4, launcher.launched.size());
    }

    @Test
    void consecutiveCrashesDoubleTheDelayAndLongServiceResetsIt() throws Exception {
        start(1);
        long[] expected = {0, 100, 200, 400};
        for (long delay : expected) {
            Fakes.Process p = launcher.last();
            bringUp(p);
            clock.advanceMillis(1_000);
            p.exit(1);
            step();
            assertTrue(lines.text().contains("restarting in " + delay + " ms"), lines.text());
            clock.advanceMillis(delay);
            step();
        }
        Fakes.Process longLived = launcher.last();
        bringUp(longLived);
        clock.advanceMillis(5_000);
        longLived.exit(1);
        step();
        String last = lines.text().substring(lines.text().lastIndexOf("restarting in "));
        assertTrue(last.startsWith("restarting in 0 ms\n"), "5 s of service reset the backoff: " + last);
        assertEquals(6, launcher.launched.size(), "restarted at once");
    }

    @Test
    void workersThatNeverBecomeReadyMakeItGiveUpWithTheReason() throws Exception {
        start(1);
        for (int i = 1; i <= 5; i++) {
            Fakes.Process p = launcher.last();
            Fakes.Connection c = new Fakes.Connection(p.pid);
            supervisor.post(new Event.Hello(c, p.token));
            supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.BOOT_ERROR, "app class x.Y not found")));
            p.exit(WorkerExitCodes.APP_NOT_FOUND);
            step();
            clock.advanceMillis(60_000);
            boolean running = step();
            if (i < 5) {
                assertTrue(running);
                assertEquals(i + 1, launcher.launched.size(), "restarted after failure " + i);
            } else {
                assertFalse(running, "gave up after 5 failures in a row");
            }
        }
        assertEquals(5, launcher.launched.size());
        assertEquals(ExitCodes.WORKERS_FAILED_TO_BOOT, supervisor.run());
        assertEquals("workers failed to boot 5 times in a row; last: app class x.Y not found", supervisor.failure());
    }

    @Test
    void aReadyWorkerResetsTheBootFailureCount() throws Exception {
        start(2);
        for (int i = 0; i < 4; i++) {
            Fakes.Process p = launcher.launched.stream().filter(x -> x.workerId == 1 && !x.exit.isDone()).findFirst().orElseThrow();
            p.exit(WorkerExitCodes.APP_FAILED);
            step();
            clock.advanceMillis(60_000);
            step();
        }
        bringUp(launcher.launched.stream().filter(x -> x.workerId == 2).findFirst().orElseThrow());
        Fakes.Process p = launcher.launched.stream().filter(x -> x.workerId == 1 && !x.exit.isDone()).findFirst().orElseThrow();
        p.exit(WorkerExitCodes.APP_FAILED);
        step();
        assertTrue(step(), "4 failures, a READY worker, then 1 more failure: still running");
        assertNull(supervisor.failure());
    }

    @Test
    void aWorkerNotReadyInTimeIsKilledAndCountsAsABootFailure() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        clock.advanceMillis(9_999);
        step();
        assertEquals(0, p.kills);
        clock.advanceMillis(1);
        step();
        assertEquals(1, p.kills);
        step();
        assertEquals(1, p.kills, "killed once");
        p.exit(137);
        step();
        assertTrue(lines.text().contains("failed to boot: not READY within --boot-timeout 10 s"), lines.text());
    }

    @Test
    void aCrashBackoffNeverLeavesTheServerWithNoWorkerToServe() throws Exception {
        start(2);
        Fakes.Process a = launcher.launched.get(0);
        Fakes.Process b = launcher.launched.get(1);
        bringUp(a);
        bringUp(b);
        a.exit(137);
        step();
        Fakes.Process again = launcher.last();
        bringUp(again);
        again.exit(137);  // a crash in a row: slot 1 backs off, while worker 2 serves
        step();
        assertEquals(3, launcher.launched.size(), lines.text());
        b.exit(137);  // now no worker serves: slot 1 does not wait out its backoff
        step();
        assertEquals(5, launcher.launched.size(), lines.text());
    }

    @Test
    void aStartThatFailsForWantOfFdsIsRetriedWithBackoffAndNeverGivenUpOn() throws Exception {
        launcher.exhausted = true;
        start(1);
        for (int i = 0; i < 20; i++) {
            clock.advanceMillis(30_000);
            assertTrue(step(), "the supervisor gives up on nothing that comes back:\n" + lines.text());
        }
        assertEquals(0, launcher.launched.size());
        launcher.exhausted = false;
        clock.advanceMillis(30_000);
        step();
        assertEquals(1, launcher.launched.size(), lines.text());
        assertTrue(logged("cannot start a JVM: error=24, Too many open files"), lines.text());
    }

    @Test
    void aLauncherFailureIsRetriedWithBackoffUntilItGivesUp() throws Exception {
        launcher.fail = true;
        start(1);
        assertTrue(lines.text().endsWith("worker 1: restarting in 0 ms\n"), lines.text());
        step();
        for (long delay : new long[] {100, 200, 400}) {
            assertTrue(lines.text().endsWith("worker 1: restarting in " + delay + " ms\n"), lines.text());
            clock.advanceMillis(delay - 1);
            step();
            assertTrue(lines.text().endsWith("worker 1: restarting in " + delay + " ms\n"), "not before the backoff");
            clock.advanceMillis(1);
            step();
        }
        assertEquals(ExitCodes.WORKERS_FAILED_TO_BOOT, supervisor.run());
        assertTrue(supervisor.failure().contains("cannot start a JVM: no such file: /no/java"), supervisor.failure());
    }

    @Test
    void termDrainsReadyWorkersThroughTheChannelAndExitsZero() throws Exception {
        start(2);
        Fakes.Connection ready = bringUp(launcher.launched.get(0));
        Fakes.Process starting = launcher.launched.get(1);
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        assertEquals(ControlMessage.of(MessageType.STOP, "5000"), ready.sent.get(ready.sent.size() - 1));
        assertTrue(lines.text().contains("READY -> DRAINING (sent STOP: SIGTERM)"), lines.text());
        assertEquals(0, launcher.launched.get(0).terms, "a connected worker is told, not signalled");
        assertEquals(1, starting.terms, "a worker that has not connected gets SIGTERM");
        assertTrue(lines.text().contains("STARTING -> DRAINING (sent SIGTERM: SIGTERM)"), lines.text());
        assertTrue(List.copyOf(supervisor.pool().workers()).stream().allMatch(w -> w.state() == WorkerState.DRAINING));
        launcher.launched.get(0).exit(0);
        starting.exit(143);
        assertFalse(step());
        assertEquals(2, launcher.launched.size(), "nothing restarted during a stop");
        assertEquals(ExitCodes.OK, supervisor.run());
    }

    @Test
    void workersStillRunningAtTheGracefulDeadlineAreKilled() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        bringUp(p);
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        clock.advanceMillis(4_999);
        step();
        assertEquals(0, p.kills);
        clock.advanceMillis(1);
        step();
        assertEquals(1, p.kills);
        assertTrue(lines.text().contains("still running at the stop deadline; sending SIGKILL"));
        p.exit(137);
        assertFalse(step());
    }

    @Test
    void aSecondTermMakesTheStopFastAndSignalsEachWorkerOnce() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        bringUp(p);
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        assertEquals(1, p.terms);
        clock.advanceMillis(1_000);
        step();
        assertEquals(1, p.kills, "fast stop kills after 1 s, not after the graceful 5 s");
    }

    @Test
    void intIsAFastStop() throws Exception {
        start(2);
        bringUp(launcher.launched.get(0));
        supervisor.post(new Event.SignalReceived(HandledSignal.INT));
        step();
        assertTrue(launcher.launched.stream().allMatch(p -> p.terms == 1));
        launcher.launched.forEach(p -> p.exit(143));
        assertFalse(step());
    }

    @Test
    void anExitDuringAStopIsNotRestarted() throws Exception {
        start(1);
        Fakes.Process p = launcher.last();
        bringUp(p);
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        p.exit(1);
        clock.advanceMillis(60_000);
        assertFalse(step());
        assertEquals(1, launcher.launched.size());
    }
}
