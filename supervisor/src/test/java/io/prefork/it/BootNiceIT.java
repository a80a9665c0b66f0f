package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.supervisor.Flag;
import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * --boot-nice: a roll's successor boots at a lower CPU priority while the old worker serves, and every
 * thread of it is lifted back once it is READY; without the right to lift, nothing is lowered. The
 * successor is held at GatedApp's gate (a file), so the test reads its threads while it boots, not
 * whenever a race lets it. The serving worker keeps a core busy meanwhile, as one under load would:
 * a boot beside idle workers is lifted within half a second (YieldingBoots), which would race READY.
 */
@Timeout(180)
class BootNiceIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final String GATED = "io.prefork.it.apps.GatedApp";
    /** The default --boot-nice, which these tests run with. */
    private static final int NICE = Integer.parseInt(Flag.BOOT_NICE.defaultValue());

    @TempDir
    Path dir;

    @Test
    void aRollsSuccessorBootsNiceAndServesAtTheNormalPriority() throws Exception {
        Path hold = dir.resolve("hold");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--app", GATED,
                "--app-classpath", RunningSupervisor.TEST_APPS + ":" + Jars.EXAMPLES, "--", hold.toString(), "spin")) {
            long old = s.awaitReadyWorkers(1, BOOT).get(1);
            assertEquals(Set.of(0), Set.copyOf(ProcFs.threadNiceValues(old)), "the first worker booted at full priority");

            Files.createFile(hold);
            Processes.kill(s.pid(), Linux.SIGHUP);
            long successor = Long.parseLong(s.awaitLine("worker 1 \\(pid (\\d+)\\): started to replace worker 1 \\(pid "
                    + old + "\\) \\(SIGHUP\\), at a lower CPU priority while others serve \\(--boot-nice\\)", BOOT).group(1));
            awaitThreads(successor, NICE, s);  // its JVM started its threads, all at the boot priority, and waits at the gate
            assertEquals(Set.of(0), Set.copyOf(ProcFs.threadNiceValues(old)), "the serving worker is left alone");

            Files.delete(hold);
            s.awaitLine("worker 1 \\(pid " + successor + "\\): back at the normal CPU priority \\(READY, taking over\\)", BOOT);
            assertEquals(Set.of(0), Set.copyOf(ProcFs.threadNiceValues(successor)), "every thread lifted once it serves");
            assertTrue(RunningSupervisor.awaitGone(old, BOOT), "the old worker drained and exited");
            assertEquals(successor, Http.get(s.port(), "/").workerPid(), "the successor serves");
        }
    }

    @Test
    void withoutTheRightToLiftABootIsNeverLowered() throws Exception {
        String setpriv = Tools.require("setpriv", "util-linux");
        Path log = dir.resolve("supervisor.log");
        List<String> command = new ArrayList<>(List.of(setpriv, "--inh-caps=-sys_nice", "--bounding-set=-sys_nice"));
        command.addAll(RunningSupervisor.command("-w", "1", "-b", "127.0.0.1:0", "--worker-start", "plain"));
        // Its socket directory in the test's own: the teardown SIGKILLs it, and it cannot remove that itself.
        RunningSupervisor.useTmp(command, dir);
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try (RunningSupervisor s = RunningSupervisor.adopt(p, log)) {
            assertTrue(s.awaitLine("WARN --boot-nice " + NICE + ": worker JVMs boot at the normal CPU priority: lifting one back needs"
                    + " CAP_SYS_NICE or a nice limit of at least 20 \\(ulimit -e; systemd: LimitNICE=\\+0\\)", BOOT) != null);
            long old = s.awaitReadyWorkers(1, BOOT).get(1);
            Processes.kill(s.pid(), Linux.SIGHUP);
            s.awaitLine("rolling restart done", BOOT);
            assertFalse(s.logText().contains("lower CPU priority"), s.logText());
            long successor = s.awaitReadyWorkers(1, BOOT).get(1);
            assertTrue(successor != old);
            assertEquals(Set.of(0), Set.copyOf(ProcFs.threadNiceValues(successor)));
        }
    }

    /** Waits until the process runs more than a few threads, every one at {@code nice}. */
    private static void awaitThreads(long pid, int nice, RunningSupervisor s) throws Exception {
        long deadline = System.nanoTime() + BOOT.toNanos();
        List<Integer> seen = List.of();
        while (System.nanoTime() < deadline) {
            seen = ProcFs.threadNiceValues(pid);
            if (seen.size() > 5 && s.logText().contains("(pid " + pid + "): STARTING -> BOOTING")) {
                assertEquals(Set.of(nice), Set.copyOf(seen), "every thread of the booting JVM at nice " + nice);
                return;
            }
            RunningSupervisor.pause(20);
        }
        throw new AssertionError("pid " + pid + " never got to BOOTING with its threads; nice values " + seen + "\n" + s.logText());
    }

}
