package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each worker JVM sized for its share of the machine, unless the user chose; and the over-commit warning. */
class JvmShareTest {
    private static final JvmShare.Machine MACHINE = new JvmShare.Machine(24L << 30, 2);

    @Test
    void memoryAndCpusAreDividedAmongTheWorkerJvms() {
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=12288m"), JvmShare.options(MACHINE, 2, List.of()));
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=4096m"), JvmShare.options(MACHINE, 6, List.of()),
                "never fewer than one CPU");
        assertEquals(List.of("-XX:ActiveProcessorCount=4", "-XX:MaxRAM=8192m"),
                JvmShare.options(new JvmShare.Machine(16L << 30, 8), 2, List.of()));
    }

    @Test
    void whatTheUserGaveWins() {
        assertEquals(List.of("-XX:ActiveProcessorCount=1"), JvmShare.options(MACHINE, 2, List.of("-Xmx512m")));
        assertEquals(List.of("-XX:ActiveProcessorCount=1"), JvmShare.options(MACHINE, 2, List.of("-XX:MaxRAMPercentage=50")));
        assertEquals(List.of("-XX:MaxRAM=12288m"), JvmShare.options(MACHINE, 2, List.of("-XX:ActiveProcessorCount=2")));
        assertEquals(List.of("-XX:ActiveProcessorCount=1"), JvmShare.options(new JvmShare.Machine(-1, 2), 2, List.of()),
                "memory unknown: no heap share");
    }

    @Test
    void heapsThatAddUpToMoreThanThereIsAreWarnedOfAtStart() {
        assertNull(JvmShare.overcommit(MACHINE, 4, List.of("-Xmx4g")), "16 GiB of 24: fits");
        String warning = JvmShare.overcommit(MACHINE, 8, List.of("-Xmx4g"));
        assertEquals("8 worker JVM(s) with a maximum heap of 4096 MiB each may use 32768 MiB of heap, more than the"
                + " 24576 MiB this machine (or container) has: under load the kernel's OOM killer, not the JVM, will"
                + " stop them; give each less (--jvm-opt=-Xmx...) or run fewer", warning);
        assertTrue(JvmShare.overcommit(MACHINE, 2, List.of("-XX:MaxHeapSize=13g")).startsWith("2 worker JVM(s)"));
        assertNull(JvmShare.overcommit(MACHINE, 64, List.of()), "no heap given: each JVM sizes its own");
        assertEquals(3L << 20, JvmShare.bytes("3m"));
        assertEquals(-1, JvmShare.bytes("lots"));
    }

    @Test
    void theWorkerCommandCarriesTheShareBeforeTheUsersOptions() {
        WorkerCommand.App app = new WorkerCommand.App() {
            public List<String> workerCommand() {
                return List.of();
            }

            public String java() {
                return "/usr/bin/java";
            }

            public List<String> jvmOpts() {
                return List.of("-Dx=1");
            }

            public String appClasspath() {
                return "app.jar";
            }

            public String appClass() {
                return "App";
            }

            public List<String> appArgs() {
                return List.of();
            }

            public RunAs runAs() {
                return null;
            }

            public int workers() {
                return 3;
            }

            public int spares() {
                return 1;
            }

            public boolean jvmShare() {
                return true;
            }
        };
        List<String> command = WorkerCommand.build(app, MACHINE);
        int share = command.indexOf("-XX:ActiveProcessorCount=1");
        assertTrue(share > 0 && command.indexOf("-XX:MaxRAM=6144m") == share + 1, command.toString());
        assertTrue(command.indexOf("-Dx=1") > share + 1, "the user's options come after, and win: " + command);
    }
}
