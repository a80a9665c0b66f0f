package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each worker JVM sized for its share of the machine, unless the user chose; and the over-commit warning. */
class JvmShareTest {
    private static final JvmShare.Machine MACHINE = new JvmShare.Machine(24L << 30, 2);

    private static final Runtime.Version OLD_JDK = Runtime.Version.parse("17.0.8");
    private static final Runtime.Version JDK = Runtime.Version.parse("17.0.15");

    @Test
    void memoryAndCpusAreDividedAmongTheWorkerJvms() {
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=12288m", "-Xms8m"),
                JvmShare.options(MACHINE, 2, List.of(), OLD_JDK));
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=4096m", "-Xms8m"),
                JvmShare.options(MACHINE, 6, List.of(), OLD_JDK), "never fewer than one CPU");
        assertEquals(List.of("-XX:ActiveProcessorCount=4", "-XX:MaxRAM=8192m", "-Xms8m"),
                JvmShare.options(new JvmShare.Machine(16L << 30, 8), 2, List.of(), null));
    }

    @Test
    void anIdleWorkerKeepsASmallHeapAndTrimsItsCHeapOnJdksThatCan() {
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=12288m", "-Xms8m",
                "-XX:+UnlockExperimentalVMOptions", "-XX:TrimNativeHeapInterval=2000"),
                JvmShare.options(MACHINE, 2, List.of(), JDK));
        for (String has : List.of("17.0.9", "21.0.1", "22", "25.0.1")) {
            assertTrue(JvmShare.trimsNativeHeap(Runtime.Version.parse(has)), has);
        }
        for (String lacks : List.of("17", "17.0.8", "18.0.2", "20.0.2", "21")) {
            assertFalse(JvmShare.trimsNativeHeap(Runtime.Version.parse(lacks)), lacks);
        }
        assertFalse(JvmShare.trimsNativeHeap(null), "a JDK of unknown version gets no option it may not know");
    }

    @Test
    void whatTheUserGaveWins() {
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-Xms8m"), JvmShare.options(MACHINE, 2, List.of("-Xmx512m"), null));
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-Xms8m"),
                JvmShare.options(MACHINE, 2, List.of("-XX:MaxRAMPercentage=50"), null));
        assertEquals(List.of("-XX:MaxRAM=12288m", "-Xms8m"),
                JvmShare.options(MACHINE, 2, List.of("-XX:ActiveProcessorCount=2"), null));
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-Xms8m"),
                JvmShare.options(new JvmShare.Machine(-1, 2), 2, List.of(), null), "memory unknown: no heap share");
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=12288m"),
                JvmShare.options(MACHINE, 2, List.of("-Xms64m"), null));
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=12288m"),
                JvmShare.options(MACHINE, 2, List.of("-XX:InitialRAMPercentage=5"), null));
        assertEquals(List.of("-XX:ActiveProcessorCount=1"), JvmShare.options(MACHINE, 2, List.of("-Xmx6m"), null),
                "an initial heap above the maximum would stop the JVM");
        assertEquals(List.of("-XX:ActiveProcessorCount=1", "-XX:MaxRAM=12288m", "-Xms8m"),
                JvmShare.options(MACHINE, 2, List.of("-XX:TrimNativeHeapInterval=0"), JDK));
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
        List<String> command = WorkerCommand.build(app, null, MACHINE, List.of());
        int share = command.indexOf("-XX:ActiveProcessorCount=1");
        assertTrue(share > 0 && command.indexOf("-XX:MaxRAM=6144m") == share + 1, command.toString());
        assertTrue(command.indexOf("-Dx=1") > share + 1, "the user's options come after, and win: " + command);
    }
}
