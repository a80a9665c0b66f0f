package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.launch.JvmShare;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * --jvm-share auto with real worker JVMs: each starts with its share and the options that keep an idle
 * worker small, the user's -Xmx wins over the share, and heaps that add up to more than the machine
 * has are warned of at start (the JVM only reserves a heap, so the workers still boot and serve). And
 * each loads jnr-ffi's stub from the copy the supervisor unpacked, so a killed worker leaves no file.
 */
@Timeout(120)
class JvmShareIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void workersGetTheirShareAndOverCommittedHeapsAreWarnedOfAtStart() throws Exception {
        long memTotalMib = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) >> 10).findFirst().orElseThrow();
        long heapMib = memTotalMib * 3 / 4;  // two of them: 1.5 times the machine
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                "--jvm-opt=-Xmx" + heapMib + "m")) {
            s.awaitLine("WARN 2 worker JVM\\(s\\) with a maximum heap of " + heapMib + " MiB each may use " + heapMib * 2
                    + " MiB of heap, more than the \\d+ MiB this machine \\(or container\\) has: under load the kernel's"
                    + " OOM killer, not the JVM, will stop them; give each less \\(--jvm-opt=-Xmx...\\) or run fewer", BOOT);
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, BOOT);
            for (long pid : workers.values()) {
                List<String> args = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
                assertTrue(args.contains("-XX:ActiveProcessorCount=" + Math.max(1, Runtime.getRuntime().availableProcessors() / 2)),
                        "a CPU share: " + args);
                assertTrue(args.contains("-Xms8m"), "a small initial heap: " + args);
                assertTrue(args.stream().noneMatch(a -> a.startsWith("-XX:MaxRAM=")), "the user's -Xmx wins: " + args);
                assertEquals(JvmShare.trimsNativeHeap(Runtime.version()), args.contains("-XX:TrimNativeHeapInterval=2000"),
                        "the C heap trimmed on a JDK that can (the workers run this test's JDK): " + args);
                String maps = Files.readString(Path.of("/proc/" + pid + "/maps"));
                assertTrue(maps.contains("/" + System.mapLibraryName("jffi-1.2") + "\n"),
                        "jnr-ffi's stub loaded from the one unpacked copy, not a temporary file of its own: " + maps);
            }
            String supervisorMaps = Files.readString(Path.of("/proc/" + s.pid() + "/maps"));
            assertTrue(supervisorMaps.contains("/" + System.mapLibraryName("jffi-1.2") + "\n"),
                    "the supervisor's own jffi stub comes from the unpacked copy too, not a temporary file: " + supervisorMaps);
            assertEquals(200, Http.get(s.port(), "/").status(), "the workers serve");
        }
    }
}
