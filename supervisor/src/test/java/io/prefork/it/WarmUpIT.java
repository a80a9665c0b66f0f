package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * --warmup-requests for apps that know nothing of prefork: each boots on a private loopback listener,
 * is warmed up there, and only then gets listener 0, so the first real client never meets it cold.
 * Blocking accept (Jetty's acceptor thread, PlainApp) and a selector (an epoll set) are both moved.
 * And for the hello app's hook: its warm-up requests pass through {@code Prefork.requestDone()} but
 * are not counted as served ones.
 */
@Timeout(180)
class WarmUpIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    /** One worker of {@code app} (Jetty's blocking acceptors, a plain blocking one, a selector) warmed up with {@code requests}. */
    private RunningSupervisor warmedUp(String app, int requests) throws Exception {
        return RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--app", app,
                "--app-classpath", Jars.EXAMPLES + ":" + RunningSupervisor.TEST_APPS, "--warmup-requests", Integer.toString(requests));
    }

    @ParameterizedTest
    @ValueSource(strings = {"io.prefork.examples.UnawareJettyApp", "io.prefork.examples.PlainApp", "io.prefork.it.apps.SelectorApp"})
    void anAppThatKnowsNothingOfPreforkIsWarmedUpBeforeItTakesARealConnection(String app) throws Exception {
        try (RunningSupervisor s = warmedUp(app, 100)) {
            int port = s.port();
            // A client that comes while the worker boots: it waits in the listen queue, and is answered only
            // once the app is warm and has listener 0.
            CompletableFuture<Instant> answered = CompletableFuture.supplyAsync(() -> {
                try {
                    assertEquals(200, Http.get(port, "/").status());
                    return Instant.now();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            Matcher warmed = s.awaitLine("(\\S+) prefork worker 1 \\(pid " + pid + "\\): warmed up on a private loopback"
                    + " listener: 100 requests to / in \\d+ ms", BOOT);
            Instant firstAnswer = answered.get(BOOT.toSeconds(), TimeUnit.SECONDS);
            assertFalse(firstAnswer.isBefore(Instant.parse(warmed.group(1))),
                    "the first real client was answered at " + firstAnswer + ", before the warm-up ended:\n" + s.logText());
            String log = s.logText();
            assertTrue(log.indexOf("warmed up on a private loopback") < log.indexOf("BOOTING -> READY"), log);
            assertEquals(Set.of("127.0.0.1:" + port), ProcFs.tcpListenersHeldBy(List.of(pid)),
                    "the private listener is closed, listener 0 is in its place");
            for (int i = 0; i < 20; i++) {
                assertEquals(200, Http.get(port, "/").status());
            }
        }
    }

    @org.junit.jupiter.api.Test
    void warmUpRequestsDoNotCountTowardMaxRequests() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--warmup-requests", "200", "--max-requests", "20")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            assertTrue(s.logText().contains("warmed up through Prefork.onWarmUp: 200 requests"), s.logText());
            for (int i = 0; i < 19; i++) {
                assertEquals(pid, Http.get(port, "/").workerPid());
            }
            assertFalse(s.logText().contains("(limit 20)"), "asked to be recycled before 20 real requests:\n" + s.logText());
            assertEquals(pid, Http.get(port, "/").workerPid());
            Matcher served = s.awaitLine("worker 1 \\(pid " + pid + "\\): served (\\d+) requests \\(limit 20\\); recycling", BOOT);
            assertEquals("20", served.group(1), s.logText());
        }
    }

    /**
     * With no client waiting, too: an acceptor asleep in accept() on the private listener must end up
     * in accept() on listener 0 (READY), not parked where nothing sees it until a real client comes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io.prefork.examples.UnawareJettyApp", "io.prefork.examples.PlainApp", "io.prefork.it.apps.SelectorApp"})
    void aWarmedUpAppIsReadyWithNoClientWaiting(String app) throws Exception {
        try (RunningSupervisor s = warmedUp(app, 20)) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            assertTrue(s.logText().contains("warmed up on a private loopback listener: 20 requests"), s.logText());
            assertEquals(Set.of("127.0.0.1:" + port), ProcFs.tcpListenersHeldBy(List.of(pid)),
                    "the private listener is closed, listener 0 is in its place");
            assertEquals(200, Http.get(port, "/").status());
        }
    }
}
