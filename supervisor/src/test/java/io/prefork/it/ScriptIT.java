package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The README's run command: scripts/prefork execs the supervisor JVM, so signals reach it directly. */
@Timeout(120)
class ScriptIT {
    @TempDir
    Path dir;

    @Test
    void scriptsPreforkServesTheHelloAppAndTermStopsIt() throws Exception {
        Path log = dir.resolve("script.log");
        ProcessBuilder pb = new ProcessBuilder(RunningSupervisor.HOME.resolve("scripts/prefork").toString(),
                "-w", "2", "-b", "127.0.0.1:0", "--cache-dir", dir.resolve("cache").toString());
        pb.directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        // scripts/prefork makes TMPDIR the JVM's java.io.tmpdir: the socket directories go with the test's,
        // which JUnit removes even after a teardown's SIGKILL.
        pb.environment().put("TMPDIR", dir.toString());
        Process p = pb.start();
        try (RunningSupervisor s = RunningSupervisor.adopt(p, log)) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            assertTrue(Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/exe")).toString().endsWith("/java"),
                    "the script exec'd java: the pid we started is the supervisor JVM");
            assertTrue(s.logText().contains("prefork[" + p.pid() + "] INFO listening on 127.0.0.1:" + port));
            List<Path> archives;
            try (var files = Files.list(dir.resolve("cache"))) {
                archives = files.filter(f -> f.getFileName().toString().matches("supervisor-\\d+\\.jsa")).toList();
            }
            assertEquals(1, archives.size(), "the script trained the supervisor's class archive into --cache-dir");
            assertTrue(Files.readString(Path.of("/proc/" + p.pid() + "/maps")).contains(archives.get(0).toString()),
                    "and the supervisor JVM runs from it");
            assertEquals("Hello, world!\n", Http.get(port, "/").body());
            assertTrue(workers.values().contains(Http.get(port, "/").workerPid()));
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    /**
     * A first start with a new cache dir trains the supervisor's class archive before the JVM takes
     * over the script's pid. A stop sent to that pid meanwhile (a kill by pid, systemd's stop) ends
     * the training and the start at once and leaves no file. INT goes through env --default-signal:
     * a job a shell starts in the background (as a CI run may start the build) ignores INT, and an
     * ignored signal stays ignored in everything it starts.
     */
    @ParameterizedTest
    @CsvSource({"TERM, 15, 143", "INT, 2, 130"})
    void aStopWhileTheFirstStartTrainsTheArchiveEndsItAndLeavesNoFile(String name, int signal, int code) throws Exception {
        Path cache = dir.resolve("cache");
        Path log = dir.resolve("script.log");
        ProcessBuilder pb = new ProcessBuilder("env", "--default-signal=INT", RunningSupervisor.HOME.resolve("scripts/prefork").toString(),
                "-w", "1", "-b", "127.0.0.1:0", "--cache-dir", cache.toString());
        pb.directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("TMPDIR", dir.toString());
        Process p = pb.start();
        try (RunningSupervisor s = RunningSupervisor.adopt(p, log)) {
            long training = awaitTrainingRun(p);
            s.signal(signal);
            assertEquals(code, s.awaitExit(Duration.ofSeconds(10)), "the script's exit code:\n" + s.logText());
            assertTrue(RunningSupervisor.awaitGone(training, Duration.ofSeconds(5)), "the training JVM is gone");
            assertTrue(s.logText().contains("prefork: SIG" + name + " while the supervisor's class archive was trained; stopped"),
                    s.logText());
            assertFalse(s.logText().contains("listening on"), "no supervisor started:\n" + s.logText());
            try (var files = Files.list(cache)) {
                assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("supervisor-")).toList(),
                        "neither an archive nor its temporary file is left");
            }
        }
    }

    /** The pid of the script's training JVM, once it runs (the script runs it on a first start). */
    private static long awaitTrainingRun(Process script) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            var training = script.descendants()
                    .filter(h -> h.info().commandLine().orElse("").contains("SupervisorArchiveTraining")).findFirst();
            if (training.isPresent()) {
                return training.get().pid();
            }
            if (!script.isAlive()) {
                fail("scripts/prefork exited before its training run was seen");
            }
            RunningSupervisor.pause(5);
        }
        return fail("no training run within 30 s of the first start");
    }
}
