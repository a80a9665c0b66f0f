package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ordinary Spring Boot 3.5 web app (Tomcat) whose only change is the prefork-spring-boot starter,
 * run from its executable jar with --app-jar: boots, rolls and stops with zero loss, and a hot spare
 * boots its whole context before it gets its socket.
 */
@Timeout(400)
class SpringBootIT {
    static final Path APP = RunningSupervisor.HOME.resolve("spring-boot-example/target/prefork-example-spring-boot.jar");
    private static final Duration BOOT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private RunningSupervisor start(String... extra) throws Exception {
        // Spring Boot's Tomcat makes work directories in java.io.tmpdir and leaves them: here, the test's own.
        Path tmp = java.nio.file.Files.createDirectories(dir.resolve("tmp"));
        List<String> args = new ArrayList<>(List.of("-b", "127.0.0.1:0", "--app-jar", APP.toString(),
                "--graceful-timeout", "20", "--jvm-opt=-Djava.io.tmpdir=" + tmp));
        args.addAll(List.of(extra));
        return RunningSupervisor.start(dir, args.toArray(String[]::new));
    }

    @Test
    void threeHupRollsUnderLoadThenATermWithARequestInFlightLoseNothing() throws Exception {
        try (RunningSupervisor s = start("-w", "2")) {
            int port = s.port();
            s.awaitReadyWorkers(2, BOOT);
            assertEquals("Hello from Spring Boot\n", Http.get(port, "/").body());
            assertTrue(s.logText().contains("Tomcat started on port " + port), "Tomcat serves the supervisor's socket:\n" + s.logText());
            try (Load load = Load.start(port, 2, 2, 50)) {
                for (int roll = 0; roll < 3; roll++) {
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(Pattern.compile("rolling restart done: 2 worker\\(s\\) replaced"), roll, BOOT);
                }
                load.close();
                System.out.println("Spring Boot, 3 HUP rolls under load: " + load.summary());
                assertEquals(List.of(), load.failures(), load.summary());
            }
            // Any worker may take it: one the last roll replaced may still be accepting while its drain begins.
            long ms = s.termWithRequestInFlight(port, s.allWorkerPids(), "/sleep?ms=3000", "slept 3000 ms\n",
                    Duration.ofSeconds(40));
            System.out.println("Spring Boot: stopped " + ms + " ms after TERM, a 3 s request in flight");
            assertTrue(ms < 20_000, "within --graceful-timeout: " + ms + " ms");
            assertEquals(0, s.count("killed by SIGKILL"), s.logText());
        }
    }

    @Test
    void aSpareBootsItsWholeContextBeforePromotion() throws Exception {
        try (RunningSupervisor s = start("-w", "1", "--spares", "1")) {
            int port = s.port();
            long active = s.awaitReadyWorkers(1, BOOT).get(1);
            Matcher parked = s.awaitLine("spare \\(pid (\\d+)\\): parked, its app booted and waits for sockets", BOOT);
            long spare = Long.parseLong(parked.group(1));
            String beforePromotion = s.logText();
            assertTrue(Pattern.compile("INFO " + spare + " --- .*Root WebApplicationContext: initialization completed")
                    .matcher(beforePromotion).find(), "the spare's context was up before it parked:\n" + beforePromotion);
            Processes.kill(active, Linux.SIGKILL);
            long promoted = s.awaitNewReady(1, active, BOOT);
            assertEquals(spare, promoted, "the spare took the slot:\n" + s.logText());
            boolean answered = false;
            for (int i = 0; i < 20 && !answered; i++) {
                answered = Http.get(port, "/").workerPid() == spare;
            }
            assertTrue(answered, "the promoted spare serves");
        }
    }
    /**
     * --warmup-requests with the starter: Tomcat takes the private listener as its inherited channel, so
     * the first worker is warmed up before READY although Spring says it is ready as soon as Tomcat has
     * started, and the spare boots its whole context and is warmed up before it parks.
     */
    @Test
    void aWorkerAndASpareAreWarmedUpBeforeReadyAndBeforeTheyPark() throws Exception {
        try (RunningSupervisor s = start("-w", "1", "--spares", "1", "--warmup-requests", "200")) {
            int port = s.port();
            long active = s.awaitReadyWorkers(1, BOOT).get(1);
            long spare = Long.parseLong(s.awaitLine("spare \\(pid (\\d+)\\): parked, its app booted", BOOT).group(1));
            String log = s.logText();
            int activeWarmed = log.indexOf("worker 1 (pid " + active + "): warmed up on a private loopback listener: 200 requests");
            assertTrue(activeWarmed >= 0 && activeWarmed < log.indexOf("worker 1 (pid " + active + "): BOOTING -> READY"),
                    "READY waited for the warm-up, though Spring said it was ready before:\n" + log);
            int spareWarmed = log.indexOf("spare (pid " + spare + "): warmed up on a private loopback listener: 200 requests");
            assertTrue(spareWarmed >= 0 && spareWarmed < log.indexOf("INFO spare (pid " + spare + "): parked,"),
                    "the spare warmed up before it parked:\n" + log);
            Processes.kill(active, Linux.SIGKILL);
            assertEquals(spare, s.awaitNewReady(1, active, BOOT), "the spare took the slot:\n" + s.logText());
            assertEquals(spare, Http.get(port, "/").workerPid(), "the promoted spare serves");
            assertEquals(1, s.count("\\(pid " + spare + "\\): warmed up on a private loopback listener"),
                    "no second warm-up at promotion:\n" + s.logText());
        }
    }
}
