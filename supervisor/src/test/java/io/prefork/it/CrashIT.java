package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Killing workers never takes the server down, and nothing waiting in the backlog is lost. */
@Timeout(120)
class CrashIT {
    private static final Duration BOOT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** One request's outcome, with when it started. */
    private record Outcome(long startedNanos, boolean ok, long pid, String error) {
    }

    @Test
    void aCrashLoopOverTheRestartBudgetStopsWithASummaryAndExitFour() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--app", "io.prefork.it.apps.DyingApp", "--app-classpath", RunningSupervisor.TEST_APPS, "--ready", "app",
                "--max-restarts", "3", "--restart-window", "20")) {
            s.awaitLine("READY -> EXITED", BOOT);
            long firstDeath = System.nanoTime();
            assertEquals(4, s.awaitExit(Duration.ofSeconds(20)), s.logText());
            long tookMs = (System.nanoTime() - firstDeath) / 1_000_000;
            assertTrue(tookMs < 20_000, "stopped within the window: " + tookMs + " ms");
            String summary = "prefork: 4 unplanned worker restarts within 20 s (--max-restarts 3): 4 exited with code 1";
            List<String> lines = s.logText().lines().toList();
            assertEquals(summary, lines.get(lines.size() - 1), "the last line says why:\n" + s.logText());
            assertEquals(4, s.count("READY -> EXITED \\(exited with code 1\\)"), s.logText());
        }
    }

    @Test
    void killingOneWorkerUnderTrafficKeepsTheServerAnswering() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            int port = s.port();
            Map<Integer, Long> ready = s.awaitReadyWorkers(2, BOOT);
            long victim = ready.get(1);
            long survivor = ready.get(2);

            List<Outcome> outcomes = new ArrayList<>();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread client = new Thread(() -> {
                while (running.get()) {
                    long start = System.nanoTime();
                    try {
                        Http.Response r = Http.get(port, "/");
                        synchronized (outcomes) {
                            outcomes.add(new Outcome(start, r.status() == 200, r.workerPid(), null));
                        }
                    } catch (IOException e) {
                        synchronized (outcomes) {
                            outcomes.add(new Outcome(start, false, 0, e.toString()));
                        }
                    }
                }
            });
            client.start();
            try {
                RunningSupervisor.pause(200);
                long killedAt = System.nanoTime();
                Processes.kill(victim, Linux.SIGKILL);
                s.awaitLine("worker 1 \\(pid " + victim + "\\): READY -> EXITED \\(killed by SIGKILL \\(possibly out of memory\\)\\)", BOOT);
                s.awaitLine("worker 1: restarting in 0 ms", BOOT);
                long replacement = s.awaitNewReady(1, victim, BOOT);
                assertTrue(replacement != victim);
                awaitServedBy(outcomes, replacement);

                running.set(false);
                client.join(30_000);
                synchronized (outcomes) {
                    List<Outcome> failed = outcomes.stream().filter(o -> !o.ok()).toList();
                    System.out.printf("kill -9 of one worker under traffic: %d requests, %d failed%n",
                            outcomes.size(), failed.size());
                    // A request the victim had already accepted dies with it; nothing else may fail.
                    assertTrue(failed.size() <= 1, "failed requests: " + failed);
                    failed.forEach(f -> assertTrue(f.startedNanos() <= killedAt + 50_000_000L,
                            "only a request in flight at the kill may fail: " + f));
                    assertTrue(outcomes.stream().anyMatch(o -> o.ok() && o.pid() == survivor && o.startedNanos() > killedAt),
                            "the other worker kept answering");
                    assertTrue(outcomes.size() > 20, "traffic ran throughout: " + outcomes.size() + " requests");
                }
            } finally {
                running.set(false);
                client.join(30_000);
            }
        }
    }

    @Test
    void aRequestSentWhileEveryWorkerIsDeadWaitsForTheReplacement() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            int port = s.port();
            Map<Integer, Long> old = s.awaitReadyWorkers(2, BOOT);
            for (long pid : old.values()) {
                Processes.kill(pid, Linux.SIGKILL);
            }
            for (long pid : old.values()) {
                assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(10)), "worker " + pid + " died");
            }
            Instant sent = Instant.now();
            Http.Response r = Http.get(new java.net.InetSocketAddress("127.0.0.1", port), "/", Duration.ofSeconds(60));
            assertEquals(200, r.status());
            assertFalse(old.containsValue(r.workerPid()), "answered by a replacement");

            // The request really waited in the backlog: no replacement was READY when it was sent.
            java.util.regex.Matcher firstReady = s.awaitMatch(java.util.regex.Pattern.compile(
                    "(\\S+) prefork\\[\\d+\\] INFO worker \\d \\(pid (\\d+)\\): BOOTING -> READY"), 2, BOOT);
            assertTrue(Instant.parse(firstReady.group(1)).isAfter(sent),
                    "the first replacement became READY at " + firstReady.group(1) + ", after the request at " + sent);
        }
    }

    @Test
    void repeatedCrashesBackOffAndTheServerStaysUp() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            long[] delays = {0, 100, 200};
            Set<Long> pids = new HashSet<>(List.of(pid));
            for (long delay : delays) {
                try {
                    Http.get(port, "/crash");
                } catch (IOException expected) {
                    // the worker dies mid-request: that is what /crash is for
                }
                s.awaitLine("worker 1 \\(pid " + pid + "\\): READY -> EXITED \\(exited with code 1\\)", BOOT);
                s.awaitLine("worker 1: restarting in " + delay + " ms", BOOT);
                Http.Response r = Http.get(new java.net.InetSocketAddress("127.0.0.1", port), "/", Duration.ofSeconds(60));
                assertEquals(200, r.status(), "the server answers after crash " + pids.size());
                pid = r.workerPid();
                assertTrue(pids.add(pid), "a new worker each time");
            }
            assertTrue(s.process.isAlive(), "the supervisor stays up");
        }
    }

    private static void awaitServedBy(List<Outcome> outcomes, long pid) {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (outcomes) {
                if (outcomes.stream().anyMatch(o -> o.ok() && o.pid() == pid)) {
                    return;
                }
            }
            RunningSupervisor.pause(20);
        }
        throw new AssertionError("the replacement " + pid + " never served");
    }
}
