package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Operating a live server: rolling restarts, deploys, scaling, liveness, recycling, ctl. */
@Timeout(180)
class OperateIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final Pattern ROLL_DONE = Pattern.compile("rolling restart done: (\\d+) worker\\(s\\) replaced");

    @TempDir
    Path dir;

    /** With every core saturated, as are the other zero-loss tests here. */
    @Test
    void threeHupRollsUnderLoadFailNoRequest() throws Exception {
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            int port = s.port();
            Map<Integer, Long> before = s.awaitReadyWorkers(2, BOOT);
            try (Load load = Load.start(port, 2, 2, 75)) {
                for (int roll = 0; roll < 3; roll++) {
                    s.signal(Linux.SIGHUP);
                    assertEquals("2", s.awaitMatch(ROLL_DONE, roll, BOOT).group(1));
                    Map<Integer, Long> after = s.awaitReadyWorkers(2, BOOT);
                    Set<Long> common = new HashSet<>(after.values());
                    common.retainAll(before.values());
                    assertTrue(common.isEmpty(), "every worker pid is new after roll " + (roll + 1) + ": " + before + " -> " + after);
                    before = after;
                }
                load.close();
                System.out.println("3 HUP rolls under load: " + load.summary());
                assertEquals(java.util.List.of(), load.failures(), load.summary());
                assertTrue(load.rate() >= 200, "load was " + load.summary());
            }
        }
    }

    @Test
    void aNewJarAndHupSwitchTheResponsesWithoutAFailedRequest() throws Exception {
        Path appJar = dir.resolve("app.jar");
        Jars.deploy(Jars.exampleWithGreeting(dir, "v1.jar", "Hello from v1\n"), appJar);
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                "--app-classpath", appJar.toString())) {
            int port = s.port();
            Map<Integer, Long> old = s.awaitReadyWorkers(2, BOOT);
            try (Load load = Load.start(port, 2, 2, 75)) {
                assertTrue(load.awaitBody("Hello from v1\n", BOOT));
                Jars.deploy(Jars.exampleWithGreeting(dir, "v2.jar", "Hello from v2\n"), appJar);
                RunningSupervisor.CtlResult reload = RunningSupervisor.ctl(dir, "reload");
                assertEquals(0, reload.code(), reload.toString());
                assertEquals("rolling restart done: 2 worker(s) replaced\n", reload.out(), "ctl reload waits for the roll");
                assertTrue(load.awaitBody("Hello from v2\n", BOOT), "the new build answers");
                // A draining worker still answers the requests its kept-alive clients send before they
                // see its Connection: close (README, "Draining"), so the old build may answer a moment
                // after the roll is done; once the old workers have exited, only the new one answers.
                for (long pid : old.values()) {
                    s.awaitLine("worker \\d+ \\(pid " + pid + "\\): DRAINING -> EXITED", BOOT);
                }
                long switched = System.nanoTime();
                RunningSupervisor.pause(500);
                assertTrue(load.bodies.get("Hello from v1\n") < switched, "and only the new build, once the old workers have exited");
                load.close();
                System.out.println("hot deploy under load: " + load.summary());
                assertEquals(java.util.List.of(), load.failures(), load.summary());
            }
        }
    }

    @Test
    void aRollOntoABrokenJarAbortsAndTheOldWorkersKeepServing() throws Exception {
        Path appJar = dir.resolve("app.jar");
        Jars.deploy(Jars.EXAMPLES, appJar);
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                "--app-classpath", appJar.toString())) {
            int port = s.port();
            Map<Integer, Long> old = s.awaitReadyWorkers(2, BOOT);
            try (Load load = Load.start(port, 2, 2, 75)) {
                Jars.deploy(Jars.brokenHelloApp(dir), appJar);
                RunningSupervisor.CtlResult reload = RunningSupervisor.ctl(dir, "reload");
                assertEquals(1, reload.code(), reload.toString());
                assertTrue(reload.err().startsWith("prefork ctl: rolling restart aborted: worker 1 (pid "), reload.err());
                assertTrue(reload.err().contains("failed to boot: the app's main threw java.lang.IllegalStateException: broken build;"
                        + " the old workers keep serving"), reload.err());
                assertEquals(old, s.readyWorkers(), "the old workers are still the READY ones");
                assertTrue(s.process.isAlive());
                assertEquals(200, Http.get(port, "/").status());
                load.close();
                System.out.println("aborted roll under load: " + load.summary());
                assertEquals(java.util.List.of(), load.failures(), load.summary());
            }
        }
    }

    @Test
    void ttinTtouAndCtlScaleChangeTheWorkerCount() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            s.awaitReadyWorkers(2, BOOT);
            s.signal(Linux.SIGTTIN);
            s.awaitReadyWorkers(3, BOOT);
            s.signal(Linux.SIGTTOU);
            s.awaitLine("worker 3 \\(pid \\d+\\): DRAINING -> EXITED", BOOT);
            assertEquals(Set.of(1, 2), s.readyWorkers().keySet());
            // One at a time: the kernel merges a signal sent while the same one is still pending.
            s.signal(Linux.SIGTTOU);
            s.awaitLine("workers: 2 -> 1 \\(SIGTTOU\\)", BOOT);
            s.signal(Linux.SIGTTOU);
            s.awaitLine("SIGTTOU: already at 1 worker\\(s\\), and the floor is 1", BOOT);
            assertEquals(Set.of(1), awaitCount(s, 1));

            RunningSupervisor.CtlResult scale = RunningSupervisor.ctl(dir, "scale", "4");
            assertEquals(0, scale.code(), scale.toString());
            assertEquals("workers: 1 -> 4\n", scale.out());
            assertEquals(Set.of(1, 2, 3, 4), s.awaitReadyWorkers(4, BOOT).keySet());
        }
    }

    @Test
    void aStoppedWorkerIsFoundDumpedKilledAndReplaced() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--timeout", "3")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            long stoppedAt = System.nanoTime();
            Processes.kill(pid, Linux.SIGSTOP);
            s.awaitLine("worker 1 \\(pid " + pid + "\\): no heartbeat for \\d+ ms \\(--timeout 3 s\\)", Duration.ofSeconds(10));
            assertTrue(System.nanoTime() - stoppedAt < Duration.ofSeconds(6).toNanos(), "found within --timeout (+ a heartbeat)");
            s.awaitLine("Full thread dump", Duration.ofSeconds(10));
            s.awaitLine("worker 1 \\(pid " + pid + "\\): READY -> DRAINING \\(sent STOP: no heartbeat\\)", Duration.ofSeconds(10));
            // with nothing in flight it may finish its drain before the SIGKILL a second later
            s.awaitLine("worker 1 \\(pid " + pid + "\\): DRAINING -> EXITED \\((exited with code 0|killed by SIGKILL: no heartbeat for 3 s)\\)",
                    Duration.ofSeconds(10));
            long replacement = s.awaitNewReady(1, pid, BOOT);
            assertEquals(replacement, Http.get(port, "/").workerPid());
        }
    }

    /**
     * Four recycles, one after another, under load beside busy loops. The replacements boot at the
     * normal priority: at --boot-nice 10 (the default then; the roll tests keep the default) each took 4.6-6 s
     * beside the busy loops, and four of them in a row made this the suite's third slowest test.
     */
    @Test
    void maxRequestsRecyclesEachWorkerAt50To60RequestsWithoutAFailedRequest() throws Exception {
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                     "--max-requests", "50", "--max-requests-jitter", "10", "--boot-nice", "0")) {
            int port = s.port();
            s.awaitReadyWorkers(2, BOOT);
            try (Load load = Load.start(port, 2, 2, 60)) {
                s.awaitMatch(Pattern.compile("replaced by pid"), 3, BOOT); // four recycles done
                load.close();
                System.out.println("recycling under load: " + load.summary());
                assertEquals(java.util.List.of(), load.failures(), load.summary());
            }
            Matcher m = Pattern.compile("served (\\d+) requests \\(limit (\\d+)\\); recycling").matcher(s.logText());
            int recycles = 0;
            while (m.find()) {
                int served = Integer.parseInt(m.group(1));
                assertEquals(m.group(2), m.group(1));
                assertTrue(served >= 50 && served <= 60, "recycled after " + served + " requests");
                recycles++;
            }
            assertTrue(recycles >= 4, s.logText());
        }
    }

    @Test
    void aWorkerStuckInALongRequestIsKilledAtTheGracefulTimeout() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--graceful-timeout", "2", "--app", "io.prefork.it.apps.StuckApp",
                "--app-classpath", RunningSupervisor.TEST_APPS)) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            Http.inFlight(port, "/");
            ProcFs.awaitAccepted(port, java.util.List.of(pid));
            long termAt = System.nanoTime();
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(15)));
            long ms = (System.nanoTime() - termAt) / 1_000_000;
            assertTrue(ms >= 2000 && ms < 8000, "stopped " + ms + " ms after TERM");
            assertTrue(s.logText().contains("worker 1 (pid " + pid + "): still running at the stop deadline; sending SIGKILL"));
            assertTrue(s.logText().contains("DRAINING -> EXITED (killed by SIGKILL: still running at the stop deadline)"));
        }
    }

    @Test
    void ctlStatusListsEveryWorker() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            int port = s.port();
            Map<Integer, Long> ready = s.awaitReadyWorkers(2, BOOT);
            for (int i = 0; i < 10; i++) {
                Http.get(port, "/");
            }
            // Request counts travel with the heartbeat, once a second: wait until they have arrived.
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            RunningSupervisor.CtlResult json;
            long requests;
            long heapMax;
            do {
                heapMax = Long.MAX_VALUE;
                RunningSupervisor.pause(100);
                json = RunningSupervisor.ctl(dir, "status", "--json");
                assertEquals(0, json.code(), json.toString());
                requests = 0;
                for (Map.Entry<Integer, Long> w : ready.entrySet()) {
                    Matcher m = Pattern.compile("\\{\"id\":" + w.getKey() + ",\"pid\":" + w.getValue()
                            + ",\"state\":\"READY\",\"role\":\"active\",\"uptime_ms\":(\\d+),\"requests\":(\\d+),\"restarts\":0,\"rss_bytes\":(\\d+)"
                            + ",\"heap_used_bytes\":(-?\\d+),\"heap_max_bytes\":(-?\\d+)}")
                            .matcher(json.out());
                    assertTrue(m.find(), json.out());
                    assertTrue(Long.parseLong(m.group(1)) > 0 && Long.parseLong(m.group(3)) > 10 << 20);
                    heapMax = Math.min(heapMax, Long.parseLong(m.group(5)));
                    requests += Long.parseLong(m.group(2));
                }
            } while (requests < 10 && System.nanoTime() < deadline);
            assertEquals(10, requests, json.out());
            assertTrue(heapMax > 0 && heapMax < Long.MAX_VALUE, "each JVM worker's heartbeat tells its heap: " + json.out());
            RunningSupervisor.CtlResult table = RunningSupervisor.ctl(dir, "status");
            assertTrue(table.out().startsWith("ID   PID      STATE     ROLE"), table.out());
            assertEquals(3, table.out().lines().count(), table.out());
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    java.nio.file.Files.getPosixFilePermissions(dir.resolve("prefork.ctl"))), "owner only");

            // ctl talks over the JDK's own Unix-domain channel: no jnr-ffi, no jffi stub unpacked into /tmp.
            Path classes = dir.resolve("ctl-classes.txt");
            List<String> command = RunningSupervisor.commandFor("io.prefork.supervisor.admin.Ctl",
                    "--socket", dir.resolve("prefork.ctl").toString(), "status");
            command.add(1, "-Xlog:class+load:file=" + classes);
            Process ctl = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("ctl-native.txt").toFile()).start();
            assertTrue(ctl.waitFor(60, TimeUnit.SECONDS), "prefork ctl status did not finish within 60 s");
            assertEquals(0, ctl.exitValue(), Files.readString(dir.resolve("ctl-native.txt")));
            String loaded = Files.readString(classes);
            assertTrue(loaded.contains("io.prefork.supervisor.admin.Ctl "), "the class log works: " + loaded.length());
            assertFalse(loaded.contains("com.kenai.jffi") || loaded.contains(" jnr.ffi."), "ctl loaded native code");

            RunningSupervisor.CtlResult stop = RunningSupervisor.ctl(dir, "stop");
            assertEquals(0, stop.code(), stop.toString());
            assertEquals(0, s.awaitExit(BOOT));
            assertTrue(s.logText().contains("graceful stop (ctl stop)"));
        }
    }

    @Test
    void aWorkerOverTheMemoryLimitIsRecycled() throws Exception {
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--max-worker-rss", "1")) {
            int port = s.port();
            long first = s.awaitReadyWorkers(1, BOOT).get(1);
            try (Load load = Load.start(port, 2, 2, 40)) {
                s.awaitLine("worker 1 \\(pid " + first + "\\): resident memory \\d+ MiB is over --max-worker-rss 1 MiB", BOOT);
                s.awaitLine("READY -> DRAINING \\(sent STOP: replaced by pid \\d+\\)", BOOT);
                long next = s.awaitNewReady(1, first, BOOT);
                assertTrue(RunningSupervisor.awaitGone(first, BOOT), "the recycled worker " + first + " exited");
                assertTrue(next != first);
                assertTrue(load.awaitPid(next, BOOT), "the new worker answered");
                load.close();
                System.out.println("memory recycle under load: " + load.summary());
                assertEquals(java.util.List.of(), load.failures(), load.summary());
            }
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    private static Set<Integer> awaitCount(RunningSupervisor s, int n) {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (System.nanoTime() < deadline && s.readyWorkers().size() != n) {
            RunningSupervisor.pause(20);
        }
        return s.readyWorkers().keySet();
    }
}
