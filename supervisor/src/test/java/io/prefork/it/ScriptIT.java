package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

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
}
