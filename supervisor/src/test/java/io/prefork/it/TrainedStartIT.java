package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.unix.Linux;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * --worker-start trained on a JDK with the AOT cache (24+): a serving worker records the cache
 * from real traffic, the JVM writes it as the worker exits, later workers start from it, and a
 * corrupt one is refused and recorded again.
 */
@Timeout(300)
class TrainedStartIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    /** What the supervisor asks of a recording before it keeps it (ClassArchive.MIN_RECORDED_REQUESTS), and some. */
    private static final int REQUESTS = 1200;

    @TempDir
    Path dir;
    private Path cache;
    private Path appJar;
    private String java;

    @BeforeEach
    void deployTheApp() throws Exception {
        java = Tools.requireJdk(24, "the AOT cache of --worker-start trained");
        cache = dir.resolve("cache");
        appJar = dir.resolve("app.jar");
        Jars.deploy(Jars.EXAMPLES, appJar);
    }

    private RunningSupervisor start() throws Exception {
        return RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--java", java, "--worker-start", "trained",
                "--cache-dir", cache.toString(), "--app-classpath", appJar.toString());
    }

    private Path recordedCache() throws Exception {
        try (Stream<Path> files = Files.list(cache)) {
            List<Path> found = files.filter(f -> f.getFileName().toString().endsWith(".trained.aot")).toList();
            assertEquals(1, found.size(), "one recorded cache: " + found);
            return found.get(0);
        }
    }

    private static String commandLine(long pid) throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    /** The JVM maps the cache it uses: proof that it took the file, not only that it was named. */
    private static boolean maps(long pid, Path file) throws Exception {
        return Files.readString(Path.of("/proc/" + pid + "/maps")).contains(file.toString());
    }

    /** Real traffic, and a wait until the worker's heartbeat has told the supervisor about it. */
    private void serve(RunningSupervisor s) throws Exception {
        for (int i = 0; i < REQUESTS; i++) {
            assertEquals(200, Http.get(s.port(), "/").status());
        }
        long deadline = System.nanoTime() + BOOT.toNanos();
        Pattern requests = Pattern.compile("\"requests\":(\\d+)");
        while (true) {
            Matcher m = requests.matcher(RunningSupervisor.ctl(dir, "status", "--json").out());
            if (m.find() && Long.parseLong(m.group(1)) >= REQUESTS) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("the supervisor never heard of " + REQUESTS + " requests served:\n" + s.logText());
            }
            RunningSupervisor.pause(100);
        }
    }

    /** A 200 from the worker; if none comes, its thread dump (on the supervisor's log) says where it hangs. */
    private static void answers(RunningSupervisor s, long worker) throws Exception {
        try {
            assertEquals(200, Http.get(s.port(), "/").status());
        } catch (java.io.IOException e) {
            io.prefork.posix.Processes.kill(worker, Linux.SIGQUIT);
            RunningSupervisor.pause(1000);
            throw new AssertionError("worker " + worker + " (from the recorded cache) did not answer: " + e.getMessage(), e);
        }
    }

    @Test
    void aWorkerRecordsTheCacheAsItExitsAndTheNextWorkersStartFromIt() throws Exception {
        try (RunningSupervisor s = start()) {
            long recorder = s.awaitReadyWorkers(1, BOOT).get(1);
            assertTrue(commandLine(recorder).contains("-XX:AOTMode=record"), commandLine(recorder));
            assertTrue(s.logText().contains("worker 1 (pid " + recorder + "): records an AOT cache"), s.logText());
            serve(s);

            s.signal(Linux.SIGHUP);  // the recorder is replaced, and writes the cache as it exits
            s.awaitLine("recorded an AOT cache while it served \\d+ requests; checking it", BOOT);
            s.awaitLine("recorded AOT cache ready: ", BOOT);
            // The supervisor made the cache itself: none of the JVM's one-step lines reach the log.
            for (String line : List.of("Launching child process", "Picked up JAVA_TOOL_OPTIONS", "AOTCache creation")) {
                assertFalse(s.logText().contains(line), line + " in the log:\n" + s.logText());
            }
            Path recorded = recordedCache();
            s.awaitLine("rolling restart done", BOOT);

            long before = s.readyWorkers().get(1);
            s.signal(Linux.SIGHUP);  // the next worker starts from it
            s.awaitMatch(Pattern.compile("rolling restart done"), 1, BOOT);
            long next = s.readyWorkers().get(1);
            assertTrue(commandLine(next).contains("-XX:AOTCache=" + recorded), commandLine(next));
            assertTrue(maps(next, recorded), "the worker's JVM maps " + recorded);
            assertTrue(RunningSupervisor.awaitGone(before, BOOT), "the replaced worker " + before + " drained and exited");
            answers(s, next);  // the one started from the recorded cache, nothing else listening
            assertEquals(1, s.count("records an AOT cache"), "once a cache is kept, no worker records:\n" + s.logText());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(BOOT));
        }
        Path recorded = recordedCache();
        try (RunningSupervisor s = start()) {  // the next supervisor starts every worker from it
            long worker = s.awaitReadyWorkers(1, BOOT).get(1);
            assertTrue(s.logText().contains("recorded cache " + recorded + ": valid (the JVM took it when it was made); workers start with it"), s.logText());
            assertTrue(maps(worker, recorded), "the worker's JVM maps " + recorded);
            assertFalse(s.logText().contains("records an AOT cache"), s.logText());
            assertFalse(s.logText().contains("started to train"), s.logText());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(BOOT));
        }
    }

    @Test
    void aCorruptCacheIsRefusedAndRecordedAgainAndAStopKeepsWhatTheLastRecorderWrote() throws Exception {
        for (int run = 0; run < 2; run++) {
            try (RunningSupervisor s = start()) {
                s.awaitReadyWorkers(1, BOOT);
                serve(s);
                s.signal(Linux.SIGTERM);  // the recorder writes the cache as it stops, and the supervisor waits for its check
                assertEquals(0, s.awaitExit(BOOT));
                String log = s.logText();
                assertTrue(log.contains("recorded AOT cache ready: "), log);
                if (run == 1) {
                    assertTrue(log.contains("recorded cache " + recordedCache() + " is unusable"), log);
                    assertTrue(log.contains("records an AOT cache"), log);
                }
            }
            Path recorded = recordedCache();
            byte[] bytes = Files.readAllBytes(recorded);
            if (run == 0) {
                for (int i = 0; i < 4096; i++) {
                    bytes[i] = (byte) 0x5a;  // the header: what a truncated or overwritten file looks like
                }
                Files.write(recorded, bytes);
            } else {
                assertFalse(bytes[0] == 0x5a && bytes[1] == 0x5a, "recorded anew");
            }
        }
        try (Stream<Path> files = Files.list(cache)) {
            List<String> litter = files.map(f -> f.getFileName().toString()).filter(n -> n.contains(".recording-")).toList();
            assertEquals(List.of(), litter, "no recording is left behind");
        }
    }
}
