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

    private RunningSupervisor start(String app, int workers) throws Exception {
        // A worker killed by the tests cannot remove Tomcat's work directory: it goes in the test's own.
        java.nio.file.Path tmp = java.nio.file.Files.createDirectories(dir.resolve("tmp"));
        return RunningSupervisor.start(dir, "-w", Integer.toString(workers), "-b", "127.0.0.1:0",
                "--app", "io.prefork.examples." + app, "--graceful-timeout", "20", "--jvm-opt=-Djava.io.tmpdir=" + tmp);
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
}
