package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A stop loses nothing the worker accepted, with every core saturated. */
class DrainIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    /**
     * The StopIT scenario in a loop (10 rounds in `mvn verify`, which is to stay near 12 minutes;
     * more with -Dprefork.drain.rounds=N), with busy loops on every core: a request that a worker has just
     * accepted (the kernel shows the connection in its fds; Jetty may not have registered it yet),
     * then TERM. Every request must come back whole.
     */
    @Test
    @Timeout(600)
    void termsEachWithAJustAcceptedRequestUnderSaturationAllAnswered() throws Exception {
        int rounds = Integer.getInteger("prefork.drain.rounds", 10);  // 30 and more: -Dprefork.drain.rounds=30
        List<String> results = new ArrayList<>();
        int answered = 0;
        try (CpuSaturation busy = CpuSaturation.start()) {
            for (int i = 1; i <= rounds; i++) {
                Path round = Files.createDirectories(dir.resolve("round-" + i));
                try (RunningSupervisor s = RunningSupervisor.start(round, "-w", "1", "-b", "127.0.0.1:0",
                        "--graceful-timeout", "20")) {
                    int port = s.port();
                    long pid = s.awaitReadyWorkers(1, BOOT).get(1);
                    CompletableFuture<Http.Response> slow = Http.inFlight(port, "/sleep?ms=300");
                    ProcFs.awaitAccepted(port, List.of(pid));
                    s.signal(Linux.SIGTERM);
                    String result;
                    try {
                        Http.Response r = slow.get(60, TimeUnit.SECONDS);
                        result = r.status() + " " + r.body().trim();
                        if (r.status() == 200 && r.body().equals("slept 300 ms\n")) {
                            answered++;
                        }
                    } catch (Exception e) {
                        result = "failed: " + e.getCause();
                        System.out.println("round " + i + " failed; the supervisor's log:\n" + s.logText());
                    }
                    results.add(result);
                    System.out.println("round " + i + ": " + result);
                    assertEquals(0, s.awaitExit(Duration.ofSeconds(60)), "the supervisor's exit code");
                }
            }
        }
        System.out.println(answered + " of " + rounds + " answered whole: " + results);
        assertEquals(rounds, answered, "requests answered with 200 and their full body: " + results);
    }

    /**
     * The app's acceptor holds each connection it took for 1.5 s before a selector sees it (a test
     * hook in HelloApp): Jetty knows nothing of it meanwhile, the kernel does, and the drain waits.
     */
    @Test
    @Timeout(180)
    void theDrainWaitsForAConnectionAcceptedButNotYetRegistered() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--jvm-opt", "-Dhello.registerDelayMs=1500", "--graceful-timeout", "20")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            s.termWithRequestInFlight(port, List.of(pid), "/", "Hello, world!\n", Duration.ofSeconds(30));
        }
    }

    /**
     * An app whose stop handler makes an outbound connection (to a listener this test opens, as a
     * database pool would hold one) and keeps it open: the drain is not held up by it.
     */
    @Test
    @Timeout(180)
    void anOutboundConnectionOfTheAppDoesNotHoldTheDrainUp() throws Exception {
        try (java.nio.channels.ServerSocketChannel database = java.nio.channels.ServerSocketChannel.open()
                .bind(new java.net.InetSocketAddress("127.0.0.1", 0));
             RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                     "--app", "io.prefork.it.apps.OutboundApp", "--app-classpath", RunningSupervisor.TEST_APPS,
                     "--graceful-timeout", "60", "--", Integer.toString(((java.net.InetSocketAddress) database.getLocalAddress()).getPort()))) {
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            try (java.nio.channels.SocketChannel pooled = database.accept()) {
                long termAt = System.nanoTime();
                s.signal(Linux.SIGTERM);
                assertEquals(0, s.awaitExit(Duration.ofSeconds(50)));
                long ms = (System.nanoTime() - termAt) / 1_000_000;
                s.awaitLine("drained with the outbound connection still open, pid " + pid, Duration.ofSeconds(5));
                System.out.println("stopped " + ms + " ms after TERM with an outbound connection open");
                org.junit.jupiter.api.Assertions.assertTrue(ms < 30_000, "the drain took " + ms + " ms of its 60 s");
            }
        }
    }

    /**
     * An app that knows nothing of prefork (Jetty with setInheritChannel, no stop handler): a request
     * in flight when the stop comes completes, and the worker then exits 0. On a saturated machine.
     */
    @Test
    @Timeout(300)
    void anAppWithNoStopHandlerFinishesTheRequestInFlightThenExitsZero() throws Exception {
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                     "--app", "io.prefork.examples.UnawareJettyApp", "--graceful-timeout", "30")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            s.termWithRequestInFlight(port, List.of(pid), "/sleep?ms=2000", "slept 2000 ms\n", Duration.ofSeconds(40));
            s.awaitLine("worker 1 \\(pid " + pid + "\\): every accepted connection was idle and is ended", Duration.ofSeconds(5));
            s.awaitLine("worker 1 \\(pid " + pid + "\\).*exited with code 0", Duration.ofSeconds(5));
        }
    }

    /**
     * A keep-alive response whose head went out before the stop and whose end after it: the worker
     * leaves the connection to the client's next request, answered with Connection: close. Jetty's
     * connector.shutdown() closed such a connection right after the response, so the next request met
     * the close (wrk's read errors in HUP-roll soaks; the race is the few microseconds between the head
     * and the end of a response, which HelloApp's /parts stretches to 1.5 s).
     */
    @Test
    @Timeout(180)
    void aKeepAliveResponseEndingAfterTheStopLeavesTheConnectionToTheNextRequest() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--graceful-timeout", "20");
             java.net.Socket client = new java.net.Socket("127.0.0.1", s.port())) {
            s.awaitReadyWorkers(1, BOOT);
            client.setSoTimeout(30_000);
            StringBuilder seen = new StringBuilder();
            send(client, "GET /parts?ms=1500 HTTP/1.1\r\nHost: test\r\n\r\n");
            readUntil(client, seen, "first part\n");
            s.signal(Linux.SIGTERM);
            readUntil(client, seen, "second part\n\r\n0\r\n\r\n");
            org.junit.jupiter.api.Assertions.assertFalse(seen.toString().toLowerCase(java.util.Locale.ROOT)
                    .contains("connection: close"), "the first response went out keep-alive: " + seen);
            StringBuilder next = new StringBuilder();
            send(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            readUntil(client, next, "Hello, world!\n");
            org.junit.jupiter.api.Assertions.assertTrue(next.toString().startsWith("HTTP/1.1 200 ")
                    && next.toString().toLowerCase(java.util.Locale.ROOT).contains("connection: close"),
                    "the next request on the connection, answered with Connection: close: " + next);
            client.close();
            assertEquals(0, s.awaitExit(Duration.ofSeconds(30)), "the supervisor's exit code");
        }
    }

    private static void send(java.net.Socket client, String request) throws java.io.IOException {
        client.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
    }

    /** Reads until what was read ends with {@code end}; fails if the connection closes first. */
    private static void readUntil(java.net.Socket client, StringBuilder into, String end) throws java.io.IOException {
        byte[] buf = new byte[4096];
        while (!into.toString().endsWith(end)) {
            int n = client.getInputStream().read(buf);
            if (n < 0) {
                org.junit.jupiter.api.Assertions.fail("the worker closed the connection before '" + end.trim()
                        + "'; read so far: " + into);
            }
            into.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
    }

    /**
     * The figure for the README: 3 HUP rolls under keep-alive load, side by side, of the prefork-aware
     * HelloApp (Connection: close while draining) and of an app that knows nothing of prefork, which
     * prefork drains by itself. The aware app loses nothing. The unaware one can lose only requests
     * that a keep-alive client sent as its idle connection closed: at most one per kept-alive
     * connection per worker exit, and none on new connections.
     */
    @Test
    @Timeout(400)
    void hupRollsUnderKeepAliveLoadOfAnAwareAndOfAnUnawareApp() throws Exception {
        int keepAlive = 4;
        int newConnections = 2;
        int rolls = 3;
        int workers = 2;
        String aware = rollUnderLoad("aware", "io.prefork.examples.HelloApp", keepAlive, newConnections, rolls, workers, 0);
        String unaware = rollUnderLoad("unaware", "io.prefork.examples.UnawareJettyApp", keepAlive, newConnections, rolls, workers,
                keepAlive * rolls * workers);
        System.out.println(rolls + " HUP rolls of " + workers + " workers, " + keepAlive + " keep-alive + " + newConnections
                + " new-connection clients: prefork-aware app " + aware + "; app that knows nothing of prefork " + unaware);
    }

    private String rollUnderLoad(String name, String app, int keepAlive, int newConnections, int rolls, int workers,
            int allowedKeepAliveFailures) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        try (RunningSupervisor s = RunningSupervisor.start(home, "-w", Integer.toString(workers), "-b", "127.0.0.1:0",
                "--app", app)) {
            int port = s.port();
            s.awaitReadyWorkers(workers, BOOT);
            try (Load load = Load.start(port, keepAlive, newConnections, 75)) {
                for (int roll = 0; roll < rolls; roll++) {
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(java.util.regex.Pattern.compile("rolling restart done"), roll, BOOT);
                }
                RunningSupervisor.pause(500);
                load.close();
                List<Load.Failure> failures = load.failures();
                long onKeepAlive = failures.stream().filter(Load.Failure::keepAlive).count();
                assertEquals(List.of(), failures.stream().filter(f -> !f.keepAlive()).toList(),
                        name + ": no request on a new connection fails");
                org.junit.jupiter.api.Assertions.assertTrue(onKeepAlive <= allowedKeepAliveFailures,
                        name + ": " + onKeepAlive + " failed on kept-alive connections, at most " + allowedKeepAliveFailures
                                + " allowed: " + failures);
                java.util.Map<String, Long> why = new java.util.TreeMap<>();
                failures.forEach(f -> why.merge(f.what().replaceAll("\\d+", "N"), 1L, Long::sum));
                return load.ok() + " ok, " + failures.size() + " failed" + (why.isEmpty() ? "" : " " + why);
            }
        }
    }
}
