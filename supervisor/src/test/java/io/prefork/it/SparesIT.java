package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --spares: booted JVMs held without sockets, promoted the moment a worker is needed. */
@Timeout(180)
class SparesIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void aSpareHoldsNoSocketUntilPromotedAndThenServesAtOnce() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "--spares", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            long worker = s.awaitReadyWorkers(1, BOOT).get(1);
            long spare = Long.parseLong(s.awaitLine("INFO spare \\(pid (\\d+)\\): parked,", BOOT).group(1));
            List<Long> listening = ProcFs.listeningInodes(port);
            Set<Long> held = ProcFs.socketInodes(spare);
            held.retainAll(listening);
            assertTrue(held.isEmpty(), "a spare holds no listening socket, so it cannot accept");
            for (int i = 0; i < 20; i++) {
                assertEquals(worker, Http.get(port, "/").workerPid(), "only the worker serves");
            }

            Processes.kill(worker, Linux.SIGKILL);
            Matcher promoted = s.awaitLine("worker 1 \\(pid " + spare + "\\): BOOTING -> READY \\(ready in (\\d+) ms\\)", BOOT);
            System.out.println("spare promoted to READY in " + promoted.group(1) + " ms");
            assertEquals(spare, Http.get(port, "/").workerPid(), "the promoted spare serves");
            assertTrue(ProcFs.socketInodes(spare).containsAll(listening), "and now holds the listener");
            s.awaitLine("prefork worker 1 \\(pid " + spare + "\\): promoted from spare", BOOT);
            long next = Long.parseLong(s.awaitMatch(java.util.regex.Pattern.compile("INFO spare \\(pid (\\d+)\\): parked,"), 1, BOOT).group(1));
            assertFalse(next == spare, "a new spare took its place");
        }
    }

    /**
     * --warmup-requests: the spare runs its warm-up (the app's LocalConnector) before it parks, so it
     * has served those requests before its promotion; they are not counted as served requests. Not a
     * timing assertion: the order of the log lines, and the figure printed (BENCHMARKS.md has the
     * median).
     */
    @Test
    void aWarmSpareServedItsWarmUpBeforeItWasPromoted() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "--spares", "1", "--warmup-requests", "300",
                "-b", "127.0.0.1:0")) {
            int port = s.port();
            long worker = s.awaitReadyWorkers(1, BOOT).get(1);
            long spare = Long.parseLong(s.awaitLine("INFO spare \\(pid (\\d+)\\): parked,", BOOT).group(1));
            String log = s.logText();
            int warmed = log.indexOf("INFO spare (pid " + spare + "): warmed up: 300 requests in ");
            int parked = log.indexOf("INFO spare (pid " + spare + "): parked,");
            assertTrue(warmed >= 0 && warmed < parked, "the spare warmed up before it parked:\n" + log);
            assertTrue(log.contains("INFO worker 1 (pid " + worker + "): warmed up: 300 requests in "),
                    "the first worker warmed up too, before READY:\n" + log);

            long killed = System.nanoTime();
            Processes.kill(worker, Linux.SIGKILL);
            // Until its last thread is gone, a dying acceptor of the victim can still take a connection
            // and drop it (README, "What a SIGKILL can still take"): the request goes after that.
            assertTrue(RunningSupervisor.awaitGone(worker, BOOT), "worker " + worker + " died");
            assertEquals(spare, Http.get(port, "/").workerPid(), "the warm spare answers the first request");
            System.out.printf("warm spare: kill -9 to the first answer %.1f ms%n", (System.nanoTime() - killed) / 1e6);
            int promoted = s.logText().indexOf("worker 1 (pid " + spare + "): SPARE -> BOOTING (promoted");
            assertTrue(promoted > warmed, "promoted after its warm-up");
            String status = RunningSupervisor.ctl(dir, "status", "--json").out();
            assertTrue(status.contains("\"pid\":" + spare + ",\"state\":\"READY\""), status);
            Matcher requests = java.util.regex.Pattern.compile("\"pid\":" + spare + ",.*?\"requests\":(\\d+)").matcher(status);
            assertTrue(requests.find() && Long.parseLong(requests.group(1)) < 300,
                    "warm-up requests are not counted as served: " + status);
        }
    }
}
