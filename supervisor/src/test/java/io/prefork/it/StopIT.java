package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** TERM drains; a dead supervisor takes its workers with it. */
@Timeout(120)
class StopIT {
    private static final Duration BOOT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** With every core saturated: a stop must lose nothing when the machine is busy. */
    @Test
    void termLetsTheRequestInFlightFinishThenExitsZero() throws Exception {
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                     "--graceful-timeout", "10")) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            CompletableFuture<Http.Response> slow = Http.inFlight(port, "/sleep?ms=2000");
            ProcFs.awaitAccepted(port, workers.values());

            long termAt = System.nanoTime();
            s.signal(Linux.SIGTERM);
            Http.Response r = slow.get();
            assertEquals(200, r.status());
            assertEquals("slept 2000 ms\n", r.body());
            assertEquals(0, s.awaitExit(Duration.ofSeconds(10 + 5)));
            assertTrue(System.nanoTime() - termAt < Duration.ofSeconds(10).toNanos(), "exited within the graceful timeout");
            for (long pid : workers.values()) {
                assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(5)), "worker " + pid + " is gone");
                // Logged after Jetty closed the inherited channel, which points fds 1 and 2 at /dev/null:
                // a worker's logs survive its own graceful stop.
                s.awaitLine("pid " + pid + "\\): stopped", Duration.ofSeconds(5));
            }
            assertTrue(s.logText().contains("all workers are gone; exiting"));
        }
    }

    @Test
    void aStopHandlerRunsToItsEndAfterMainReturnedAndWhatItWritesToFds1And2IsKept() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--app", "io.prefork.it.apps.NativeOutputApp", "--app-classpath", RunningSupervisor.TEST_APPS)) {
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(15)));
            // The JDK points fds 0-2 at "/dev/null" when the inherited channel closes; ours is stdout.
            s.awaitLine("fd 1 after the close, pid " + pid, Duration.ofSeconds(5));
            s.awaitLine("fd 2 after the close, pid " + pid, Duration.ofSeconds(5));
            s.awaitLine("worker 1 \\(pid " + pid + "\\): stopped", Duration.ofSeconds(5));
        }
    }

    @Test
    void workersExitWithinTwoSecondsOfASupervisorKill() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            long killedAt = System.nanoTime();
            Processes.kill(s.pid(), Linux.SIGKILL);
            for (long pid : workers.values()) {
                assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(10)), "worker " + pid + " exited");
                long ms = (System.nanoTime() - killedAt) / 1_000_000;
                System.out.printf("worker %d gone %d ms after its supervisor's kill -9%n", pid, ms);
                assertTrue(ms <= 2000, "worker " + pid + " took " + ms + " ms to follow its supervisor");
            }
        }
    }

    @Test
    void aSupervisorKilledMidDrainStillTakesItsWorkersWithinTwoSeconds() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            CompletableFuture<Http.Response> slow = Http.inFlight(port, "/sleep?ms=20000");
            ProcFs.awaitAccepted(port, java.util.List.of(pid));
            s.signal(Linux.SIGTERM);
            s.awaitLine("pid " + pid + "\\): stopping: the supervisor asked; 30000 ms to finish", BOOT);
            long killedAt = System.nanoTime();
            Processes.kill(s.pid(), Linux.SIGKILL);
            assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(10)));
            long ms = (System.nanoTime() - killedAt) / 1_000_000;
            assertTrue(ms <= 2000, "a draining worker took " + ms + " ms to follow its dead supervisor");
            s.awaitLine("pid " + pid + "\\): still stopping, now with 1000 ms left", Duration.ofSeconds(5));
            assertTrue(slow.handle((r, e) -> e != null).get(), "the 20 s request was cut off");
        }
    }

    @Test
    void intStopsFast() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            CompletableFuture<Http.Response> slow = Http.inFlight(port, "/sleep?ms=20000");
            ProcFs.awaitAccepted(port, java.util.List.of(pid));
            long intAt = System.nanoTime();
            s.signal(Linux.SIGINT);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(15)));
            assertTrue(System.nanoTime() - intAt < Duration.ofSeconds(10).toNanos(), "did not wait for the 20 s request");
            assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(5)));
            assertTrue(slow.handle((r, e) -> e != null).get(), "the 20 s request was cut off");
        }
    }

}
