package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** --boot-nice, through the loop: which boots yield the CPU, and when each is lifted back. */
class YieldingBootsTest extends SupervisorTestBase {
    @BeforeEach
    void lowering() {
        launcher.lowersBoots = true;
    }

    private static final int CPUS = 2;

    private Settings settings(int workers) {
        return Settings.defaults(workers).withTimeouts(Duration.ofSeconds(40), Duration.ofSeconds(5), Duration.ZERO)
                .withBootsAtOnce(ALL_AT_ONCE).withCpus(CPUS);
    }

    /** Runs the fake clock on by {@code ms}, the READY workers using every CPU between them, the loop stepping as it goes. */
    private void busyFor(long ms) throws InterruptedException {
        for (long t = 0; t < ms; t += 250) {
            List<Fakes.Process> serving = launcher.alive().stream()
                    .filter(p -> worker(p.pid) != null && worker(p.pid).state() == WorkerState.READY).toList();
            serving.forEach(p -> p.cpuMillis += 250L * CPUS / serving.size());
            clock.advanceMillis(250);
            step();
        }
    }

    @Test
    void aRollsSuccessorYieldsUntilReadyWhileTheFirstBootsDidNot() throws Exception {
        start(settings(2));
        Fakes.Process one = launcher.launched.get(0);
        Fakes.Process two = launcher.launched.get(1);
        assertFalse(one.yielding || two.yielding, "nothing serves yet: the first workers boot at full priority");
        bringUp(one);
        bringUp(two);

        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        Fakes.Process successor = launcher.last();
        assertTrue(successor.yielding, "a roll's successor boots while the old worker serves its slot");
        assertTrue(logged(worker(successor.pid) + ": started to replace worker 1 (pid " + one.pid
                + ") (SIGHUP), at a lower CPU priority while others serve (--boot-nice)"), lines.text());
        busyFor(9_000);
        assertEquals(0, successor.lifts, "still booting while the workers are busy, within a quarter of --boot-timeout");

        bringUp(successor);
        assertEquals(1, successor.lifts, "lifted once it serves");
        assertFalse(successor.yielding);
        String text = lines.text();
        int lifted = text.indexOf("(pid " + successor.pid + "): back at the normal CPU priority (READY, taking over)");
        int stopped = text.indexOf("(pid " + one.pid + "): READY -> DRAINING (sent STOP");
        assertTrue(lifted >= 0 && stopped > lifted, "lifted before the old one is told to stop, so that the clients"
                + " its drain sends away can reach the successor:\n" + text);
    }

    @Test
    void aSuccessorWhoseSlotLostItsWorkerIsLiftedAtOnceAndACrashReplacementNeverYields() throws Exception {
        start(settings(2));
        launcher.launched.forEach(p -> {
            try {
                bringUp(p);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Fakes.Process one = launcher.launched.get(0);
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        Fakes.Process successor = launcher.last();
        assertTrue(successor.yielding);

        one.exit(137);  // the worker it replaces dies: its slot waits for this boot now
        step();
        assertEquals(1, successor.lifts);
        assertTrue(logged("(pid " + successor.pid + "): back at the normal CPU priority (a slot has no READY worker)"),
                lines.text());

        Fakes.Process two = launcher.launched.get(1);
        two.exit(137);  // no successor for slot 2: its replacement is awaited from the start
        step();
        clock.advanceMillis(60_000);
        step();
        Fakes.Process replacement = launcher.last();
        assertEquals(2, replacement.workerId);
        assertFalse(replacement.yielding, "an empty slot's worker never yields, even while another serves");
    }

    @Test
    void aBootStopsYieldingOnceTheWorkersThatServeAreSeenIdle() throws Exception {
        start(settings(2));
        launcher.launched.forEach(p -> p.cpuMillis = 5_000);
        bringUp(launcher.launched.get(0));
        bringUp(launcher.launched.get(1));
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        Fakes.Process successor = launcher.last();
        assertTrue(successor.yielding);
        busyFor(500);
        assertEquals(0, successor.lifts, "busy workers: it yields");

        launcher.launched.get(0).cpuMillis += 45;  // 45 ms of CPU in a quarter second, of 2 CPUs: 9%
        clock.advanceMillis(250);
        step();
        assertEquals(1, successor.lifts, "with idle workers a boot would yield only to other programs: it is lifted");
        assertTrue(logged("(pid " + successor.pid + "): back at the normal CPU priority (the workers that serve used 9%"
                + " of the CPUs)"), lines.text());
    }

    @Test
    void aSpareYieldsUntilParkedAndABootThatTakesLongIsLiftedAfterAQuarterOfTheBootTimeout() throws Exception {
        start(settings(1).withSpares(2).withBootsAtOnce(1));  // so the spares start once the worker serves
        bringUp(launcher.launched.get(0));
        Fakes.Process spare = launcher.launched.get(1);
        assertEquals(0, spare.workerId);
        assertTrue(spare.yielding, "a spare boots while the worker serves");
        Fakes.Connection c = new Fakes.Connection(spare.pid);
        supervisor.post(new Event.Hello(c, spare.token));
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.PARKED)));
        step();
        assertEquals(1, spare.lifts, "its boot is over once parked");

        Fakes.Process slow = launcher.last();
        assertTrue(slow.yielding, "the second spare");
        busyFor(9_750);
        assertEquals(0, slow.lifts);
        busyFor(250);
        assertEquals(1, slow.lifts, "a quarter of --boot-timeout (40 s) is as long as a boot yields");
        assertTrue(logged("(pid " + slow.pid + "): back at the normal CPU priority (still booting after a quarter of"
                + " --boot-timeout)"), lines.text());
    }
}
