package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.unix.Linux;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --user: a root supervisor binds a privileged port; workers run the app as the given user. */
@Timeout(180)
class PrivilegesIT {
    private static final String APP = "io.prefork.it.apps.WhoAmIApp";

    @TempDir
    Path dir;

    private static void requireRoot() throws IOException {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.matches("Uid:\\s+0\\s+0\\s+0\\s+0"));
        if (!root && "1".equals(System.getenv("PREFORK_CI"))) {
            fail("CI runs as root; these tests need it");
        }
        Assumptions.assumeTrue(root, "needs root");
    }

    private static String classpath() {
        return RunningSupervisor.TEST_APPS + ":" + Jars.EXAMPLES;
    }

    @Test
    void workersRunAsNobodyOnAPrivilegedPort() throws Exception {
        requireRoot();
        int port = freePrivilegedPort();
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:" + port,
                "--user", "nobody", "--worker-start", "fast", "--cache-dir", dir.resolve("cache").toString())) {
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            for (long pid : workers.values()) {
                List<String> status = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
                assertTrue(status.stream().anyMatch(l -> l.matches("Uid:\\s+65534\\s+65534\\s+65534\\s+65534")), status.toString());
                assertTrue(status.stream().anyMatch(l -> l.matches("Gid:\\s+65534\\s+65534\\s+65534\\s+65534")), status.toString());
                assertTrue(status.stream().anyMatch(l -> l.matches("Groups:\\s+65534\\s*")), "supplementary groups: " + status);
            }
            assertTrue(Files.readAllLines(Path.of("/proc/" + s.pid() + "/status")).stream()
                    .anyMatch(l -> l.matches("Uid:\\s+0\\s+0\\s+0\\s+0")), "the supervisor stays root");
            Http.Response r = Http.get(port, "/");
            assertEquals(200, r.status());
            assertTrue(workers.containsValue(r.workerPid()));
            // fast start: the training run, dropped to nobody too, still wrote the class archive
            s.awaitLine("class archive ready", Duration.ofSeconds(60));
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    @Test
    void aWorkerThatCannotDropNeverRunsTheApp() throws Exception {
        requireRoot();
        String setpriv = Tools.require("setpriv", "util-linux");
        Path log = dir.resolve("supervisor.log");
        List<String> command = new ArrayList<>(List.of(setpriv, "--bounding-set=-setuid,-setgid"));
        command.addAll(RunningSupervisor.command("-w", "1", "-b", "127.0.0.1:0", "--user", "nobody", "--app", APP,
                "--app-classpath", classpath(), "--worker-start", "plain"));
        Path tmp = RunningSupervisor.newTmp();
        RunningSupervisor.useTmp(command, tmp);
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try (RunningSupervisor s = RunningSupervisor.adopt(p, log, tmp)) {
            assertEquals(3, s.awaitExit(Duration.ofSeconds(60)), s.logText());
            assertTrue(s.logText().contains("prefork: workers failed to boot 5 times in a row; last: cannot drop privileges"
                    + " to 65534:65534:65534: setgroups: Operation not permitted; the app does not run"), s.logText());
            assertEquals(5, s.count("exited with code 14 \\(could not drop privileges\\)"), s.logText());
            assertEquals(0, s.count("app main runs with"), "the app never ran:\n" + s.logText());
        }
    }

    private static int freePrivilegedPort() {
        for (int port = 1023; port > 600; port--) {
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
                return port;
            } catch (IOException taken) {
                // try the next
            }
        }
        return fail("no free port below 1024 on 127.0.0.1");
    }
}
