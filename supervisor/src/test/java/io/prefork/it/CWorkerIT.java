package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROTOCOL.md, spoken by a third implementation: examples/c/prefork_worker.c, built here with the
 * system's C compiler. A native worker connects to the control socket within a millisecond or two of
 * its start, often before the supervisor's ProcessBuilder has returned its pid: it must be admitted.
 */
@Timeout(300)
class CWorkerIT {
    private static final Duration BOOT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private Path worker;

    @BeforeEach
    void build() throws Exception {
        worker = compile(dir);
    }

    /** examples/c/prefork_worker.c, built with the system's C compiler into {@code dir}. */
    static Path compile(Path dir) throws Exception {
        String cc = Tools.require("cc", "the C worker's compiler (Debian package gcc)");
        Path worker = dir.resolve("prefork_worker");
        Process p = new ProcessBuilder(cc, "-O2", "-Wall", "-o", worker.toString(),
                RunningSupervisor.HOME.resolve("examples/c/prefork_worker.c").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "cc finished");
        assertEquals(0, p.exitValue(), "cc: " + out);
        return worker;
    }

    private RunningSupervisor start(Path home, int workers) throws Exception {
        return RunningSupervisor.start(home, "-w", Integer.toString(workers), "-b", "127.0.0.1:0",
                "--worker-command", worker.toString());
    }

    @Test
    void sixWorkersThatConnectAtOnceAreAdmittedInTenStartsOutOfTen() throws Exception {
        for (int start = 1; start <= 10; start++) {
            Path home = Files.createDirectories(dir.resolve("start-" + start));
            try (RunningSupervisor s = start(home, 6)) {
                s.awaitReadyWorkers(6, BOOT);
                assertEquals(0, s.count("refused a connection"), "start " + start + ":\n" + s.logText());
                assertEquals(0, s.count("EXITED"), "start " + start + ": no worker failed:\n" + s.logText());
                assertEquals("Hello from C\n", Http.get(s.port(), "/").body());
                s.signal(Linux.SIGTERM);
                assertEquals(0, s.awaitExit(Duration.ofSeconds(30)));
            }
        }
    }

    @Test
    void isRestartedAfterKill9AndRollsUnderLoadLosingNothing() throws Exception {
        try (RunningSupervisor s = start(dir, 2)) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            long victim = workers.get(1);
            Processes.kill(victim, Linux.SIGKILL);
            s.awaitLine("worker 1 \\(pid " + victim + "\\): READY -> EXITED \\(killed by SIGKILL", BOOT);
            s.awaitNewReady(1, victim, BOOT);
            try (Load load = Load.start(port, 2, 2, 40)) {
                awaitAnswers(load, 50);
                for (int roll = 1; roll <= 2; roll++) {
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(java.util.regex.Pattern.compile("rolling restart done: 2 worker\\(s\\) replaced"), roll - 1, BOOT);
                }
                awaitAnswers(load, load.ok() + 50); // and the new workers serve
                load.close();
                System.out.println("C worker, 2 HUP rolls under load: " + load.summary());
                assertEquals(List.of(), load.failures(), "failed requests: " + load.summary());
            }
        }
    }

    private static void awaitAnswers(Load load, long n) {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (load.ok() < n) {
            assertTrue(System.nanoTime() < deadline, "only " + load.summary() + " within " + BOOT);
            RunningSupervisor.pause(20);
        }
    }
}
