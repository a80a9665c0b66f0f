package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/prefork starts the first worker's JVM beside the supervisor's, from the command the last
 * start of the same command line wrote down, and the supervisor takes it only if it is what it would
 * start. Every start here is the same command line, so each finds the file the one before wrote.
 */
@Timeout(180)
class FirstWorkerIT {
    private static final String TAKEN = "worker 1 \\(pid (\\d+)\\): started beside the supervisor, taken as worker 1";

    @TempDir
    Path dir;

    @Test
    void theNextStartTakesTheWorkerStartedBesideItWithTheClassArchiveAndReapsItLikeAnyOther() throws Exception {
        // The default --worker-start fast: the class archive is made after worker 1 started without it.
        try (RunningSupervisor first = startWith("first.log", "fast", "-b", "127.0.0.1:0")) {
            first.awaitReadyWorkers(1, Duration.ofSeconds(60));
            first.awaitLine("class archive ready: ", Duration.ofSeconds(90));
            assertFalse(first.logText().contains("started beside"), "a first start has nothing written down:\n" + first.logText());
            stop(first);
        }
        Path file = firstWorkerFile();
        List<String> entries = entries(file);
        assertEquals("prefork first worker 1", entries.get(0));
        assertTrue(entries.stream().anyMatch(e -> e.startsWith("-XX:SharedArchiveFile=") || e.startsWith("-XX:AOTCache=")),
                "written again once the archive was ready, with it: " + entries);
        assertTrue(entries.contains("PREFORK_STARTED_BESIDE=1"), entries.toString());
        assertFalse(entries.stream().anyMatch(e -> e.startsWith("PREFORK_TOKEN=") || e.startsWith("PREFORK_CONTROL_SOCKET=")),
                "what each start tells the worker is not kept: " + entries);
        assertEquals("io.prefork.worker.Launcher", entries.get(entries.size() - 2), "the command ends with the launcher and the app");

        try (RunningSupervisor second = startWith("second.log", "fast", "-b", "127.0.0.1:0")) {
            long beside = Long.parseLong(second.awaitLine(TAKEN, Duration.ofSeconds(60)).group(1));
            Map<Integer, Long> workers = second.awaitReadyWorkers(1, Duration.ofSeconds(60));
            assertEquals(beside, workers.get(1), "worker 1 is the JVM the script started");
            assertEquals(second.pid(), parentOf(beside), "a child of the supervisor's pid: the script's, which exec'd the JVM");
            assertEquals(beside, Http.get(second.port(), "/").workerPid(), "and it serves");

            // Its exit is seen and it is reaped, as any worker's: the JDK did not start it.
            Processes.kill(beside, Linux.SIGKILL);
            second.awaitLine("worker 1 \\(pid " + beside + "\\): .*-> EXITED \\(killed by SIGKILL", Duration.ofSeconds(30));
            assertTrue(awaitNoProcess(beside, Duration.ofSeconds(10)), "the supervisor reaped it (no zombie left)");
            Map<Integer, Long> after = second.awaitReadyWorkers(1, Duration.ofSeconds(60));
            assertNotEquals(beside, after.get(1));
            assertEquals("Hello, world!\n", Http.get(second.port(), "/").body());
            stop(second);
        }
    }

    @Test
    void aWorkerStartedBesideThatIsNotWhatTheSupervisorWouldStartIsKilledAndReplaced() throws Exception {
        try (RunningSupervisor first = start("first.log", "-b", "127.0.0.1:0")) {
            first.awaitReadyWorkers(1, Duration.ofSeconds(60));
            stop(first);
        }
        Path file = firstWorkerFile();
        byte[] written = Files.readAllBytes(file);
        // One variable more than the supervisor gives its workers, as a file written by another setup would have.
        String text = new String(written, StandardCharsets.UTF_8).replace("PREFORK_STARTED_BESIDE=1\0",
                "PREFORK_STARTED_BESIDE=1\0PREFORK_TEST_STRAY=1\0");
        Files.writeString(file, text);
        try (RunningSupervisor second = start("second.log", "-b", "127.0.0.1:0")) {
            Matcher m = second.awaitLine("the worker started beside the supervisor \\(pid (\\d+)\\) is not this start's worker 1"
                    + " \\(another environment: PREFORK_TEST_STRAY\\); stopping it, starting one", Duration.ofSeconds(60));
            long stray = Long.parseLong(m.group(1));
            Map<Integer, Long> workers = second.awaitReadyWorkers(1, Duration.ofSeconds(60));
            assertNotEquals(stray, workers.get(1));
            assertTrue(awaitNoProcess(stray, Duration.ofSeconds(10)), "the one it did not take is killed and reaped");
            assertEquals(workers.get(1), Http.get(second.port(), "/").workerPid());
            assertTrue(java.util.Arrays.equals(written, Files.readAllBytes(file)), "and the file says again what it starts");
            stop(second);
        }
    }

    @Test
    void aSupervisorThatCannotStartLeavesNoWorkerBehind() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        try (RunningSupervisor first = start("first.log", "-b", "127.0.0.1:" + port)) {
            first.awaitReadyWorkers(1, Duration.ofSeconds(60));
            stop(first);
        }
        try (ServerSocket taken = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
             RunningSupervisor second = start("second.log", "-b", "127.0.0.1:" + port)) {
            assertNotEquals(0, second.awaitExit(Duration.ofSeconds(30)), "the port is in use:\n" + second.logText());
            Matcher m = second.awaitLine("prefork worker 1 \\(pid (\\d+)\\): started beside the supervisor, which ended \\(or let it go\\)"
                    + " before it took this worker; exiting", Duration.ofSeconds(30));
            assertTrue(RunningSupervisor.awaitGone(Long.parseLong(m.group(1)), Duration.ofSeconds(10)),
                    "the worker started beside it ends with it");
            assertTrue(taken.isBound());
        }
    }

    private RunningSupervisor start(String logName, String... args) throws IOException {
        return startWith(logName, "plain", args);
    }

    private RunningSupervisor startWith(String logName, String workerStart, String... args) throws IOException {
        Path log = dir.resolve(logName);
        List<String> cmd = new ArrayList<>(List.of(RunningSupervisor.HOME.resolve("scripts/prefork").toString(),
                "-w", "1", "--worker-start", workerStart, "--ctl-socket", dir.resolve("ctl.sock").toString(),
                "--cache-dir", dir.resolve("cache").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("TMPDIR", dir.toString());
        return RunningSupervisor.adopt(pb.start(), log);
    }

    private static void stop(RunningSupervisor s) throws Exception {
        s.signal(Linux.SIGTERM);
        assertEquals(0, s.awaitExit(Duration.ofSeconds(40)), s.logText());
    }

    private Path firstWorkerFile() throws IOException {
        try (var files = Files.list(dir.resolve("cache"))) {
            List<Path> found = files.filter(f -> f.getFileName().toString().matches("first-worker-\\d+")).toList();
            assertEquals(1, found.size(), "one file per command line: " + found);
            return found.get(0);
        }
    }

    private static List<String> entries(Path file) throws IOException {
        return List.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\0"));
    }

    private static long parentOf(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("PPid:")) {
                return Long.parseLong(line.substring(5).trim());
            }
        }
        return fail("no PPid in /proc/" + pid + "/status");
    }

    /** Not even a zombie: reaped. */
    private static boolean awaitNoProcess(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Files.exists(Path.of("/proc/" + pid))) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            RunningSupervisor.pause(10);
        }
        return true;
    }
}
