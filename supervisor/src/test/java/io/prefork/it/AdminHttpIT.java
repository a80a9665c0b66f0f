package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --admin-bind: /livez, /readyz, /status and /metrics over HTTP, and --lame-duck. */
@Timeout(180)
class AdminHttpIT {
    /** One sample line of the Prometheus text format (0.0.4): name, optional labels, a value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\[\\\\\"n])*\"(,|(?=\\})))*\\})?"
                    + " (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[+-]Inf)");
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+");

    @TempDir
    Path dir;

    private static SocketAddress adminAddress(RunningSupervisor s) {
        String port = s.awaitLine("admin HTTP on 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(30)).group(1);
        return new InetSocketAddress("127.0.0.1", Integer.parseInt(port));
    }

    private static Http.Response get(SocketAddress admin, String path) throws Exception {
        return Http.get(admin, path, Duration.ofSeconds(10));
    }

    @Test
    void endpointsAnswerWithTheDocumentedCodesAndMetricsCountAKill() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                "--admin-bind", "127.0.0.1:0", "--min-ready", "2")) {
            SocketAddress admin = adminAddress(s);
            int port = s.port();
            assertEquals(200, get(admin, "/livez").status());
            List<Long> pids = List.copyOf(s.awaitReadyWorkers(2, Duration.ofSeconds(60)).values());
            Http.Response ready = awaitStatus(admin, "/readyz", 200);
            assertEquals("ready: 2/2 workers READY\n", ready.body());

            Http.Response status = get(admin, "/status");
            assertEquals(200, status.status());
            assertEquals("application/json", status.headers().get("content-type"));
            for (long pid : pids) {
                assertTrue(status.body().contains("\"pid\":" + pid), status.body());
            }
            assertEquals(404, get(admin, "/nope").status());
            HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + ((InetSocketAddress) admin).getPort() + "/readyz"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());

            // kill -9 one worker: below --min-ready 2 until its replacement is READY, and counted.
            assertEquals(200, Http.get(port, "/").status());
            Processes.kill(pids.get(0), Linux.SIGKILL);
            Http.Response unready = awaitStatus(admin, "/readyz", 503);
            assertTrue(unready.body().startsWith("not ready: 1/2 workers READY"), unready.body());
            s.awaitMatch(Pattern.compile(": BOOTING -> READY"), 2, Duration.ofSeconds(60));
            awaitStatus(admin, "/readyz", 200);

            Http.Response metrics = get(admin, "/metrics");
            assertEquals(200, metrics.status());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.headers().get("content-type"));
            String text = metrics.body();
            assertPrometheusText(text);
            assertTrue(text.contains("prefork_worker_restarts_total{cause=\"signal\",detail=\"SIGKILL\"} 1\n"), text);
            assertTrue(text.contains("prefork_workers{state=\"READY\"} 2\n"), text);
            assertTrue(text.contains("prefork_listen_queue{listener=\"127.0.0.1:" + port + "\",slot=\"all\"} 0\n"), text);
            assertTrue(text.contains("prefork_listen_queue_limit{listener=\"127.0.0.1:" + port + "\",slot=\"all\"} 2048\n"), text);
            assertTrue(text.contains("prefork_seconds_since_ready_worker 0\n"), text);
            assertEquals(2, text.lines().filter(l -> l.startsWith("prefork_worker_uptime_seconds{")).count(), text);

            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    @Test
    void theListenQueueShowsConnectionsWaitingWhileNoWorkerAccepts() throws Exception {
        Path sock = dir.resolve("admin.sock");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--admin-bind", "unix:" + sock)) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, Duration.ofSeconds(60)).values().iterator().next();
            SocketAddress admin = Http.unix(sock);
            assertEquals(200, get(admin, "/livez").status());
            assertEquals(200, get(admin, "/readyz").status());
            Processes.kill(pid, Linux.SIGSTOP);  // frozen: it accepts nothing, so connections queue
            List<java.net.Socket> waiting = new java.util.ArrayList<>();
            try {
                assertTrue(ProcFs.awaitAllThreadsStopped(pid, Duration.ofSeconds(5)), "worker " + pid + " stopped within 5 s of SIGSTOP");
                for (int i = 0; i < 3; i++) {
                    waiting.add(new java.net.Socket("127.0.0.1", port));
                }
                String queued = "prefork_listen_queue{listener=\"127.0.0.1:" + port + "\",slot=\"all\"} 3\n";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                String text = get(admin, "/metrics").body();
                while (!text.contains(queued) && System.nanoTime() < deadline) {
                    RunningSupervisor.pause(50);
                    text = get(admin, "/metrics").body();
                }
                assertPrometheusText(text);
                assertTrue(text.contains(queued), text);
            } finally {
                Processes.kill(pid, Linux.SIGCONT);
                for (java.net.Socket w : waiting) {
                    w.close();
                }
            }
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    @Test
    void lameDuckTurnsReadyzOffAtOnceAndKeepsServingThenStopsGracefully() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                "--admin-bind", "127.0.0.1:0", "--lame-duck", "3", "--graceful-timeout", "10")) {
            SocketAddress admin = adminAddress(s);
            int port = s.port();
            s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            awaitStatus(admin, "/readyz", 200);
            try (Load load = Load.start(port, 2, 2, 50)) {
                RunningSupervisor.pause(500);
                long termAt = System.nanoTime();
                s.signal(Linux.SIGTERM);
                Http.Response readyz = awaitStatus(admin, "/readyz", 503);
                long flipMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - termAt);
                assertTrue(flipMs < 500, "/readyz turned 503 after " + flipMs + " ms");
                assertTrue(readyz.body().startsWith("stopping"), readyz.body());
                assertEquals(200, get(admin, "/livez").status(), "still live");
                long okAtTerm = load.ok();
                RunningSupervisor.pause(2500);  // inside the 3 s lame duck
                assertEquals(List.of(), load.failures(), "requests failed during the lame duck");
                assertTrue(load.ok() - okAtTerm > 100, "served during the lame duck: " + (load.ok() - okAtTerm));
                assertTrue(!s.logText().contains("graceful stop ("), "the graceful stop waited:\n" + s.logText());
            }
            assertEquals(0, s.awaitExit(Duration.ofSeconds(30)));
            String log = s.logText();
            assertTrue(log.contains("graceful stop (SIGTERM, after the --lame-duck period)"), log);
        }
    }

    private static Http.Response awaitStatus(SocketAddress admin, String path, int code) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Http.Response last = null;
        while (System.nanoTime() < deadline) {
            last = get(admin, path);
            if (last.status() == code) {
                return last;
            }
            RunningSupervisor.pause(10);
        }
        return fail("no " + code + " from " + path + " within 60 s; last: " + last);
    }

    /** Every line is a HELP/TYPE comment or a sample of a family whose TYPE came before it. */
    static void assertPrometheusText(String text) {
        assertTrue(text.endsWith("\n"), "ends with a newline");
        Set<String> typed = new HashSet<>();
        for (String line : text.split("\n")) {
            var comment = COMMENT.matcher(line);
            if (comment.matches()) {
                if (comment.group(1).equals("TYPE")) {
                    assertTrue(line.matches("# TYPE \\S+ (counter|gauge|histogram|summary|untyped)"), line);
                    assertTrue(typed.add(comment.group(2)), "TYPE given twice: " + line);
                }
                continue;
            }
            assertTrue(SAMPLE.matcher(line).matches(), "not a Prometheus sample: '" + line + "'");
            String name = line.split("[{ ]", 2)[0];
            assertTrue(typed.contains(name), "sample before its TYPE: " + line);
        }
    }
}
