package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.MessageType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What systemd hears and when, what /readyz and /metrics see: the loop's side, with fakes. */
@Timeout(10)
class ServiceManagerTest extends SupervisorTestBase {
    private final RecordingServiceManager systemd = new RecordingServiceManager();

    private void startWith(Settings settings) throws InterruptedException {
        supervisor = new Supervisor(settings, List.of(new Handoff("127.0.0.1:8080", 7)), launcher, clock,
                lines.log);
        supervisor.setServiceManager(systemd);
        step();
    }

    private Settings settings(int workers) {
        return Settings.defaults(workers).withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ZERO);
    }

    @Test
    void readyOnlyOnceTheWholeFirstGenerationIsReady() throws Exception {
        startWith(settings(2));
        assertEquals(List.of("STATUS 0/2 workers READY", "EXTEND 15"), systemd.said, "booting: status and more time");
        bringUp(launcher.launched.get(0));
        assertFalse(systemd.kinds().contains("READY"), "one of two is not enough: " + systemd.said);
        assertTrue(systemd.said.contains("STATUS 1/2 workers READY"), systemd.said.toString());
        bringUp(launcher.launched.get(1));
        assertEquals("READY 2/2 workers READY", systemd.said.get(systemd.said.size() - 2), systemd.said.toString());
        assertEquals("STATUS 2/2 workers READY", systemd.said.get(systemd.said.size() - 1));
        clock.advanceMillis(6000);
        step();
        assertEquals(1, systemd.count("EXTEND"), "no more extensions once started: " + systemd.said);
    }

    @Test
    void aReloadSaysReloadingWithTheMonotonicClockThenReadyWhenTheRollEnds() throws Exception {
        startWith(settings(1));
        bringUp(launcher.last());
        systemd.said.clear();
        long before = clock.getAsLong();
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertEquals("RELOADING " + before, systemd.said.get(0));
        assertFalse(systemd.kinds().contains("READY"), "not before the successor is READY: " + systemd.said);
        bringUp(launcher.last());
        assertTrue(systemd.said.contains("READY 1/1 workers READY"), systemd.said.toString());
    }

    @Test
    void anAbortedReloadStillEndsWithReadySoSystemdStopsWaiting() throws Exception {
        startWith(settings(1));
        bringUp(launcher.last());
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        systemd.said.clear();
        launcher.last().exit(3);
        step();
        assertTrue(systemd.said.contains("READY 1/1 workers READY, reload aborted"), systemd.said.toString());
    }

    @Test
    void theWatchdogPingsOnlyWhileAWorkerIsReady() throws Exception {
        systemd.watchdog = Duration.ofMillis(500);
        startWith(settings(1));
        clock.advanceMillis(600);
        step();
        assertEquals(0, systemd.count("WATCHDOG"), "no READY worker yet");
        bringUp(launcher.last());
        assertEquals(1, systemd.count("WATCHDOG"), "at once when the first worker is READY");
        clock.advanceMillis(200);
        step();
        assertEquals(1, systemd.count("WATCHDOG"), "not before the interval");
        clock.advanceMillis(300);
        step();
        assertEquals(2, systemd.count("WATCHDOG"));
        launcher.last().exit(137);
        step();
        clock.advanceMillis(2000);
        step();
        assertEquals(2, systemd.count("WATCHDOG"), "silent while no worker is READY: " + systemd.said);
        bringUp(launcher.last());
        assertEquals(3, systemd.count("WATCHDOG"), "and back once one is");
    }

    @Test
    void termSaysStopping() throws Exception {
        startWith(settings(1));
        Fakes.Connection c = bringUp(launcher.last());
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        String millis = Long.toString(settings(1).gracefulTimeout().toMillis());
        assertEquals(List.of(io.prefork.protocol.ControlMessage.of(MessageType.STOP, millis)),
                c.sent.stream().filter(m -> m.type() == MessageType.STOP).toList(), "no lame duck: a plain STOP");
        assertTrue(systemd.said.contains("STOPPING 1/1 workers READY, stopping"), systemd.said.toString());
        assertTrue(supervisor.readiness().stopping());
    }

    @Test
    void aLameDuckStaysUnreadyButServingThenStopsGracefully() throws Exception {
        startWith(settings(1).withLameDuck(Duration.ofSeconds(5)));
        Fakes.Connection c = bringUp(launcher.last());
        assertFalse(supervisor.readiness().stopping());
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        assertTrue(supervisor.readiness().stopping(), "/readyz turns 503 at once");
        assertEquals(1, supervisor.readiness().ready(), "the worker still serves");
        assertTrue(systemd.said.contains("STOPPING 1/1 workers READY, lame duck"), systemd.said.toString());
        assertTrue(c.sent.stream().noneMatch(m -> m.type() == MessageType.STOP), "no STOP during the lame duck");
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertTrue(logged("ignoring SIGHUP: the supervisor is stopping"), lines.text());
        clock.advanceMillis(5000);
        step();
        String millis = Long.toString(settings(1).gracefulTimeout().toMillis());
        assertTrue(c.sent.contains(io.prefork.protocol.ControlMessage.of(MessageType.STOP, millis, MessageType.CLOSE_IDLE)),
                "graceful stop after it, out of rotation: idle kept-alive connections may be ended: " + c.sent);
        assertTrue(logged("graceful stop (SIGTERM, after the --lame-duck period)"), lines.text());
        assertEquals(1, systemd.count("STOPPING"), "said once: " + systemd.said);
    }

    @Test
    void aSecondTermDuringTheLameDuckStopsFast() throws Exception {
        startWith(settings(1).withLameDuck(Duration.ofSeconds(30)));
        bringUp(launcher.last());
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        assertEquals(1, launcher.last().terms, "SIGTERM to the worker: a fast stop");
    }

    @Test
    void metricsCountRestartsByCauseAndRollsByOutcome() throws Exception {
        startWith(settings(2).withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(3)));
        bringUp(launcher.launched.get(0));
        bringUp(launcher.launched.get(1));
        launcher.launched.get(0).exit(137);  // SIGKILL
        step();
        clock.advanceMillis(10);
        step();
        bringUp(launcher.last());
        launcher.last().exit(1);
        step();
        Fakes.Process silent = launcher.launched.get(1);
        clock.advanceMillis(3500);
        step();
        clock.advanceMillis(1100);
        step();
        silent.exit(137);
        step();
        clock.advanceMillis(2500);
        String text = metrics();
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"signal\",detail=\"SIGKILL\"} 1"), text);
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"exit_code\",detail=\"1\"} 1"), text);
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"heartbeat_timeout\",detail=\"\"} 1"), text);
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"boot_failure\",detail=\"\"} 0"), text);
        assertTrue(text.contains("prefork_rolling_restarts_total{outcome=\"completed\"} 0"), text);
        assertTrue(text.contains("prefork_workers_desired 2"), text);
        // the silent worker stopped counting as READY when it was told to stop, 1.1 s before it was killed
        assertTrue(text.contains("prefork_seconds_since_ready_worker 3.6"), "no READY worker for 3.6 s: " + text);
    }

    @Test
    void metricsCountRecyclesReloadsAndBootFailures() throws Exception {
        startWith(settings(1));
        bringUp(launcher.last());
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        bringUp(launcher.last());
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        launcher.last().exit(3);  // the successor fails to boot: the roll aborts
        step();
        String text = metrics();
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"reload\",detail=\"\"} 1"), text);
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"boot_failure\",detail=\"\"} 1"), text);
        assertTrue(text.contains("prefork_rolling_restarts_total{outcome=\"completed\"} 1"), text);
        assertTrue(text.contains("prefork_rolling_restarts_total{outcome=\"aborted\"} 1"), text);
        assertTrue(text.contains("prefork_workers{state=\"READY\"} 1"), text);
        assertTrue(text.contains("prefork_seconds_since_ready_worker 0"), text);
    }

    private String metrics() throws InterruptedException {
        CompletableFuture<AdminReply> reply = new CompletableFuture<>();
        supervisor.post(new Event.AdminRequest("metrics", List.of(), reply));
        step();
        assertTrue(reply.isDone());
        return reply.join().text();
    }
}
