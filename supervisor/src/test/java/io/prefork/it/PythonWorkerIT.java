package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** PROTOCOL.md, spoken by a second implementation: examples/python/prefork_worker.py. */
@Timeout(180)
class PythonWorkerIT {
    private static final Duration BOOT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private RunningSupervisor start(String... extra) throws Exception {
        Tools.require("python3", "the Python worker");
        List<String> args = new java.util.ArrayList<>(List.of("-w", "2", "-b", "127.0.0.1:0", "--worker-command",
                "python3 " + RunningSupervisor.HOME.resolve("examples/python/prefork_worker.py")));
        args.addAll(List.of(extra));
        return RunningSupervisor.start(dir, args.toArray(String[]::new));
    }

    @Test
    void bootsServesAndIsRestartedAfterKill9() throws Exception {
        try (RunningSupervisor s = start()) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            Http.Response r = Http.get(port, "/");
            assertEquals(200, r.status());
            assertEquals("Hello from Python\n", r.body());
            assertTrue(workers.containsValue(r.workerPid()), "a worker answered, not the supervisor");
            assertTrue(s.logText().contains("prefork python worker 1 (pid " + workers.get(1) + "): ready: serving 127.0.0.1:" + port));

            long victim = workers.get(1);
            Processes.kill(victim, Linux.SIGKILL);
            s.awaitLine("worker 1 \\(pid " + victim + "\\): READY -> EXITED \\(killed by SIGKILL", BOOT);
            long replacement = s.awaitNewReady(1, victim, BOOT);
            // Python's server polls the shared socket and accepts without blocking: every worker is woken
            // and the quickest takes the connection, so one at a time the same worker may win every time.
            // Four at once, until a deadline, until the replacement has answered one.
            boolean answered = false;
            long deadline = System.nanoTime() + BOOT.toNanos();
            while (!answered && System.nanoTime() < deadline) {
                List<java.util.concurrent.CompletableFuture<Http.Response>> round = new java.util.ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    round.add(Http.inFlight(port, "/"));
                }
                for (var f : round) {
                    answered |= f.get().workerPid() == replacement;
                }
            }
            assertTrue(answered, "the replacement " + replacement + " answered none of the requests sent for " + BOOT);
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(30)));
            assertTrue(s.logText().contains("prefork python worker 1 (pid " + replacement + "): stopped"), s.logText());
        }
    }

    @Test
    void rollingRestartsUnderLoadLoseNothing() throws Exception {
        try (RunningSupervisor s = start()) {
            int port = s.port();
            Map<Integer, Long> before = s.awaitReadyWorkers(2, BOOT);
            try (Load load = Load.start(port, 2, 2, 40)) {
                RunningSupervisor.pause(500);
                for (int roll = 1; roll <= 2; roll++) {
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(java.util.regex.Pattern.compile("rolling restart done: 2 worker\\(s\\) replaced"), roll - 1, BOOT);
                    RunningSupervisor.pause(300);
                }
                assertEquals(List.of(), load.failures(), "failed requests: " + load.summary());
                assertTrue(load.ok() > 100, load.summary());
                System.out.println("python worker, 2 HUP rolls under load: " + load.summary());
            }
            Map<Integer, Long> after = s.readyWorkers();
            assertTrue(after.values().stream().noneMatch(before::containsValue), "every worker is new: " + after);
        }
    }
}
