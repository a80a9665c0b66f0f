package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
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
 * A spare of such an app warms up before it parks, and its promotion only swaps the listener in. An
 * app that says it is ready while it warms up is READY only once warm. And for the hello app's hook:
 * its warm-up requests pass through {@code Prefork.requestDone()} but are not counted as served ones.
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
    /**
     * A spare's app gets the private listener as soon as it asks for its channel: it boots all the way,
     * warms up and parks with no real listener; the kill's promotion swaps listener 0 in, and the spare
     * answers with no second warm-up.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io.prefork.examples.UnawareJettyApp", "io.prefork.examples.PlainApp", "io.prefork.it.apps.SelectorApp"})
    void aSpareOfAnAppThatKnowsNothingOfPreforkWarmsUpBeforeItParks(String app) throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "--spares", "1", "-b", "127.0.0.1:0", "--app", app,
                "--app-classpath", Jars.EXAMPLES + ":" + RunningSupervisor.TEST_APPS, "--warmup-requests", "50")) {
            int port = s.port();
            long worker = s.awaitReadyWorkers(1, BOOT).get(1);
            long spare = Long.parseLong(s.awaitLine("INFO spare \\(pid (\\d+)\\): parked,", BOOT).group(1));
            String log = s.logText();
            int warmed = log.indexOf("prefork spare (pid " + spare + "): warmed up on a private loopback listener: 50 requests");
            int parked = log.indexOf("INFO spare (pid " + spare + "): parked,");
            assertTrue(warmed >= 0 && warmed < parked, "the spare warmed up before it parked:\n" + log);
            Set<String> held = ProcFs.tcpListenersHeldBy(List.of(spare));
            assertEquals(1, held.size(), "the parked spare holds its private listener only: " + held);
            assertFalse(held.contains("127.0.0.1:" + port), "the parked spare holds no real listener: " + held);

            Processes.kill(worker, Linux.SIGKILL);
            assertTrue(RunningSupervisor.awaitGone(worker, BOOT), "worker " + worker + " died");
            assertEquals(spare, s.awaitNewReady(1, worker, BOOT), "the spare is promoted and READY:\n" + s.logText());
            assertEquals(Set.of("127.0.0.1:" + port), ProcFs.tcpListenersHeldBy(List.of(spare)),
                    "the private listener is closed, listener 0 is in its place");
            for (int i = 0; i < 5; i++) {
                assertEquals(200, Http.get(port, "/").status());
            }
            assertEquals(1, s.count("\\(pid " + spare + "\\): warmed up on a private loopback listener"),
                    "the promoted spare did not warm up again:\n" + s.logText());
        }
    }

    /**
     * An app that says it is ready as soon as it has its channel (Spring Boot's readiness does, once
     * Tomcat has started on it) still warms up first, on the private listener: its READY waits until
     * listener 0 is in place, so a roll never retires an old worker for one that cannot answer yet.
     * With --ready app, the app's word is the only way to READY (no race with the library's own look).
     */
    @org.junit.jupiter.api.Test
    void anAppThatSaysItIsReadyWhileItWarmsUpIsReadyOnceWarm() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--app",
                "io.prefork.it.apps.ReadyEarlyApp", "--app-classpath", Jars.EXAMPLES + ":" + RunningSupervisor.TEST_APPS,
                "--warmup-requests", "200", "--ready", "app")) {
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            String log = s.logText();
            int warmed = log.indexOf("prefork worker 1 (pid " + pid + "): warmed up on a private loopback listener: 200 requests");
            assertTrue(warmed >= 0, "warmed up:\n" + log);
            assertTrue(warmed < log.indexOf("(pid " + pid + "): ready (the app said so)"), "the app's READY waited for the warm-up:\n" + log);
            assertTrue(warmed < log.indexOf("(pid " + pid + "): BOOTING -> READY"), "READY after the warm-up:\n" + log);
            assertEquals(200, Http.get(s.port(), "/").status());
        }
    }
    /**
     * With a unix socket as listener 0, an app that takes its channel from the JVM expects a unix socket
     * there: it gets no private TCP listener in its place, and serves on the unix socket at once.
     */
    @org.junit.jupiter.api.Test
    void withAUnixListenerZeroAnAppThatKnowsNothingOfPreforkGetsNoTcpListener() throws Exception {
        Path socket = dir.resolve("app.sock");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "unix:" + socket, "--app",
                "io.prefork.examples.PlainApp", "--app-classpath", Jars.EXAMPLES.toString(), "--warmup-requests", "20")) {
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            assertEquals(200, Http.get(Http.unix(socket), "/", BOOT).status());
            assertEquals(Set.of(), ProcFs.tcpListenersHeldBy(List.of(pid)), "no TCP listener in the unix one's place");
            assertFalse(s.logText().contains("warmed up"), "no hook, and no private listener to warm up on:\n" + s.logText());
        }
    }
}
