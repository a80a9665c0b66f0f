package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supervisor as PID 1, as in a container started without an init: a new pid namespace
 * (unshare, as root) where scripts/prefork execs the supervisor JVM as pid 1. The runtime's TERM
 * (docker stop, a Kubernetes pod deletion) arrives from outside and must still mean a graceful stop:
 * the kernel drops signals to a namespace's init that has no handler, and the JVM has one.
 * With every core saturated: a container is stopped whether or not its machine is busy.
 */
@Timeout(120)
class ContainerIT {
    @TempDir
    Path dir;

    @Test
    void asPidOneTermFromTheRuntimeStopsGracefullyWithinTheGracePeriod() throws Exception {
        Tools.require("unshare", "a new pid namespace (util-linux), run as root");
        Path log = dir.resolve("container.log");
        ProcessBuilder pb = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc",
                RunningSupervisor.HOME.resolve("scripts/prefork").toString(),
                "-w", "2", "-b", "127.0.0.1:0", "--worker-start", "plain", "--graceful-timeout", "8");
        pb.directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString()); // the supervisor's class archive
        pb.environment().put("TMPDIR", dir.toString()); // its socket directories: JUnit removes them even after a SIGKILL
        CpuSaturation busy = CpuSaturation.start();
        Process unshare = pb.start();
        try (busy; RunningSupervisor s = RunningSupervisor.adoptInNamespace(unshare, log)) {
            int port = s.port();
            s.awaitReadyWorkers(2, Duration.ofSeconds(90));
            assertTrue(s.logText().contains("prefork[1] INFO listening on"), "the supervisor is pid 1:\n" + s.logText());
            long supervisor = unshare.children().findFirst().orElseThrow().pid();  // its pid outside the namespace
            List<Long> everyone = unshare.descendants().map(ProcessHandle::pid).toList();

            CompletableFuture<Http.Response> slow = Http.inFlight(port, "/sleep?ms=2000");
            ProcFs.awaitAccepted(port, everyone);
            long termAt = System.nanoTime();
            Processes.kill(supervisor, Linux.SIGTERM);  // what `docker stop` does: TERM to pid 1, KILL after 10 s
            assertEquals(200, slow.get().status(), "the request in flight finished");
            assertEquals(0, s.awaitExit(Duration.ofSeconds(10)), "exit code of pid 1:\n" + s.logText());
            assertTrue(System.nanoTime() - termAt < Duration.ofSeconds(10).toNanos(), "within docker's 10 s grace");
            assertTrue(s.logText().contains("graceful stop (SIGTERM)"), s.logText());
            for (long pid : everyone) {
                assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(5)), "pid " + pid + " is gone");
            }
        }
    }
}
