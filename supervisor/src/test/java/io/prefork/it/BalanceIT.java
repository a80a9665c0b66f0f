package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --balance reuseport: a socket per worker slot, all held by the supervisor. */
@Timeout(180)
class BalanceIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void eachWorkerAcceptsOnItsOwnSocketAndTheSupervisorHoldsThemAll() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--balance", "reuseport")) {
            int port = s.port();
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            List<Long> listening = ProcFs.listeningInodes(port);
            assertEquals(2, listening.size(), "two SO_REUSEPORT sockets on the port");
            assertTrue(ProcFs.socketInodes(s.pid()).containsAll(listening), "the supervisor holds both");
            Set<Long> held = new HashSet<>();
            for (long pid : workers.values()) {
                Set<Long> mine = ProcFs.socketInodes(pid);
                mine.retainAll(listening);
                assertEquals(1, mine.size(), "worker " + pid + " holds exactly one of them");
                held.addAll(mine);
            }
            assertEquals(new HashSet<>(listening), held, "and not the same one");
            Set<Long> servedBy = new HashSet<>();
            for (int i = 0; i < 200 && servedBy.size() < 2; i++) {
                servedBy.add(Http.get(port, "/").workerPid());
            }
            assertEquals(new HashSet<>(workers.values()), servedBy);
        }
    }

    @Test
    void connectionsQueuedOnACrashedWorkersSocketAreServedByItsReplacement() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--balance", "reuseport")) {
            int port = s.port();
            long frozen = s.awaitReadyWorkers(2, BOOT).get(1);
            Processes.kill(frozen, Linux.SIGSTOP); // it accepts nothing more: what the kernel hashes to its socket queues there
            assertTrue(ProcFs.awaitAllThreadsStopped(frozen, BOOT), "worker " + frozen + " stopped after SIGSTOP");
            List<CompletableFuture<Http.Response>> requests = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                requests.add(Http.inFlight(port, "/"));
            }
            awaitQueuedOrAnswered(port, requests);
            Processes.kill(frozen, Linux.SIGKILL);
            s.awaitLine("worker 1 \\(pid " + frozen + "\\): READY -> EXITED \\(killed by SIGKILL \\(possibly out of memory\\)\\)", BOOT);
            Set<Long> servedBy = new HashSet<>();
            for (CompletableFuture<Http.Response> r : requests) {
                Http.Response response = r.get();
                assertEquals(200, response.status());
                servedBy.add(response.workerPid());
            }
            long replacement = s.awaitReadyWorkers(2, BOOT).get(1);
            assertNotEquals(frozen, replacement);
            assertFalse(servedBy.contains(frozen));
            assertTrue(servedBy.contains(replacement),
                    "some connections had queued on the dead worker's socket and its replacement served them: " + servedBy);
        }
    }

    /** Waits until the kernel has every request either queued on a listener or answered. */
    private static void awaitQueuedOrAnswered(int port, List<CompletableFuture<Http.Response>> requests) throws Exception {
        long deadline = System.nanoTime() + BOOT.toNanos();
        int seen;
        while ((seen = ProcFs.queuedOnListeners(port) + (int) requests.stream().filter(CompletableFuture::isDone).count())
                < requests.size()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + seen + " of " + requests.size() + " requests queued or answered within " + BOOT);
            }
            RunningSupervisor.pause(5);
        }
    }
}
