package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Servers nobody here wrote, as workers through prefork's small helpers (the README's recipes):
 * Netty 4.2 on the epoll transport (prefork-netty, io.prefork.examples.NettyApp; the README's earlier
 * recipe hung both workers until their SIGKILL) and embedded Tomcat 11 (prefork-tomcat,
 * io.prefork.examples.TomcatApp; Tomcat alone cut requests in flight and reset some on a roll).
 * Restarts, rolls and stops lose nothing, and a stop ends well within --graceful-timeout.
 */
@Timeout(300)
class ServerAppsIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private RunningSupervisor start(String app, int workers, String... extra) throws Exception {
        // A worker killed by the tests cannot remove Tomcat's work directory: it goes in the test's own.
        java.nio.file.Path tmp = java.nio.file.Files.createDirectories(dir.resolve("tmp"));
        List<String> args = new java.util.ArrayList<>(List.of("-w", Integer.toString(workers), "-b", "127.0.0.1:0",
                "--app", "io.prefork.examples." + app, "--graceful-timeout", "20", "--jvm-opt=-Djava.io.tmpdir=" + tmp));
        args.addAll(List.of(extra));
        return RunningSupervisor.start(dir, args.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"NettyApp", "TomcatApp"})
    void restartedAfterKill9AndThreeRollsUnderLoadLoseNothing(String app) throws Exception {
        try (RunningSupervisor s = start(app, 2)) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            assertEquals("Hello from " + app.replace("App", "") + "\n", Http.get(port, "/").body());
            long victim = workers.get(1);
            Processes.kill(victim, Linux.SIGKILL);
            s.awaitNewReady(1, victim, BOOT);
            try (Load load = Load.start(port, 2, 2, 60)) {
                for (int roll = 0; roll < 3; roll++) {
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(Pattern.compile("rolling restart done: 2 worker\\(s\\) replaced"), roll, BOOT);
                }
                load.close();
                System.out.println(app + ", 3 HUP rolls under load: " + load.summary());
                assertEquals(List.of(), load.failures(), load.summary());
                assertTrue(load.ok() > 300, load.summary());
            }
            assertTrue(s.count("did not stop within the deadline") == 0, "no worker needed its halt:\n" + s.logText());
        }
    }

    /** With every core saturated: the request in flight completes, and the stop takes seconds, not the 20 s. */
    @ParameterizedTest
    @ValueSource(strings = {"NettyApp", "TomcatApp"})
    void termWithARequestInFlightCompletesItAndStopsWellWithinTheGracefulTimeout(String app) throws Exception {
        try (CpuSaturation busy = CpuSaturation.start(); RunningSupervisor s = start(app, 2)) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            long ms = s.termWithRequestInFlight(port, workers.values(), "/sleep?ms=3000", "slept 3000 ms\n", Duration.ofSeconds(40));
            System.out.println(app + ": stopped " + ms + " ms after TERM, a 3 s request in flight");
            assertTrue(ms < 10_000, "stopped " + ms + " ms after TERM; --graceful-timeout is 20 s");
            assertEquals(0, s.count("killed by SIGKILL"), s.logText());
        }
    }
    /**
     * --warmup-requests through the helpers: Netty's hook ({@code PreforkNetty.warmUpOnLoopback}) and
     * Tomcat on its inherited channel (the private listener). The worker is warmed up before READY, the
     * spare before it parks, with nothing of the warm-up left listening, and the promoted spare answers
     * with no second warm-up.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"NettyApp, through Prefork.onWarmUp", "TomcatApp, on a private loopback listener"})
    void aWorkerAndASpareAreWarmedUpBeforeReadyAndBeforeTheyPark(String app, String how) throws Exception {
        try (RunningSupervisor s = start(app, 1, "--spares", "1", "--warmup-requests", "200")) {
            int port = s.port();
            long active = s.awaitReadyWorkers(1, BOOT).get(1);
            long spare = Long.parseLong(s.awaitLine("INFO spare \\(pid (\\d+)\\): parked,", BOOT).group(1));
            String log = s.logText();
            int activeWarmed = log.indexOf("worker 1 (pid " + active + "): warmed up " + how + ": 200 requests");
            assertTrue(activeWarmed >= 0 && activeWarmed < log.indexOf("worker 1 (pid " + active + "): BOOTING -> READY"),
                    "warmed up before READY:\n" + log);
            int spareWarmed = log.indexOf("spare (pid " + spare + "): warmed up " + how + ": 200 requests");
            assertTrue(spareWarmed >= 0 && spareWarmed < log.indexOf("INFO spare (pid " + spare + "): parked,"),
                    "the spare warmed up before it parked:\n" + log);
            java.util.Set<String> held = ProcFs.tcpListenersHeldBy(List.of(spare));
            assertTrue(held.stream().noneMatch(a -> a.equals("127.0.0.1:" + port)), "no real listener before promotion: " + held);
            if (app.equals("NettyApp")) {
                assertEquals(java.util.Set.of(), held, "the warm-up channel is closed before the spare parks");
            }
            Processes.kill(active, Linux.SIGKILL);
            assertEquals(spare, s.awaitNewReady(1, active, BOOT), "the spare took the slot:\n" + s.logText());
            assertEquals(spare, Http.get(port, "/").workerPid(), "the promoted spare serves");
            assertEquals(java.util.Set.of("127.0.0.1:" + port), ProcFs.tcpListenersHeldBy(List.of(spare)),
                    "the promoted spare listens on listener 0 only");
            assertEquals(1, s.count("\\(pid " + spare + "\\): warmed up " + how), "no second warm-up:\n" + s.logText());
        }
    }
}
