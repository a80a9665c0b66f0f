package io.prefork.supervisor.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code --jvm-share auto}: each worker JVM is sized as if it ran alone in a container of its share
 * of the machine. A JVM on its own sizes its heap, its GC threads, its JIT threads and the app's
 * thread pools for the whole machine; N of them side by side ask N times for it. Here the machine's
 * memory (or the cgroup's limit) and CPUs are divided among the worker JVMs (workers and spares), and
 * each gets {@code -XX:MaxRAM} and {@code -XX:ActiveProcessorCount} for its share: the JVM's own
 * ergonomics then choose the heap (a quarter of the share at most), the collector and the thread
 * counts, exactly as they do in a container that small. Two more keep an idle worker small: a
 * small initial heap ({@code -Xms8m}: the JVM's default is 1/64 of the memory, and the young
 * generation, a third of it, is all touched after the first requests and never given back), and a
 * periodic trim of the C heap ({@code -XX:TrimNativeHeapInterval}, on JDKs that have it: glibc keeps
 * what the JIT and class loading freed). An option the user gave wins: no {@code MaxRAM} with -Xmx,
 * -XX:MaxHeapSize, -XX:MaxRAM or -XX:MaxRAMPercentage given; no {@code ActiveProcessorCount} with one
 * given; no {@code -Xms} with an initial heap given or a maximum below it; no trim with one given.
 */
public final class JvmShare {
    private static final List<String> HEAP_OPTIONS = List.of("-Xmx", "-XX:MaxHeapSize=", "-XX:MaxRAM=",
            "-XX:MaxRAMPercentage=", "-XX:MaxRAMFraction=");
    private static final String CPU_OPTION = "-XX:ActiveProcessorCount=";
    private static final List<String> INITIAL_HEAP_OPTIONS = List.of("-Xms", "-XX:InitialHeapSize=", "-XX:MinHeapSize=",
            "-XX:InitialRAMPercentage=", "-XX:InitialRAMFraction=");
    static final String INITIAL_HEAP = "-Xms8m";
    private static final String TRIM_OPTION = "-XX:TrimNativeHeapInterval=";
    /** A malloc_trim every 2 s on the JVM's own thread: 0.2-1.1 ms each, measured on the Spring Boot example. */
    static final int TRIM_INTERVAL_MS = 2000;

    /** What the workers share: memory in bytes (the cgroup's limit if lower), and CPUs. */
    public record Machine(long memoryBytes, int cpus) {
        /** This machine, or the container the supervisor runs in. */
        public static Machine current() {
            long memory = memTotal();
            long limit = cgroupMemoryLimit();
            return new Machine(limit > 0 ? Math.min(memory, limit) : memory, Runtime.getRuntime().availableProcessors());
        }
    }

    private JvmShare() {
    }

    /**
     * The options for each of {@code jvms} worker JVMs of the JDK {@code jdk} (null: unknown); none for
     * what {@code userOptions} already set.
     */
    public static List<String> options(Machine machine, int jvms, List<String> userOptions, Runtime.Version jdk) {
        List<String> options = new ArrayList<>();
        if (userOptions.stream().noneMatch(o -> o.startsWith(CPU_OPTION))) {
            options.add(CPU_OPTION + cpusEach(machine, jvms));
        }
        if (machine.memoryBytes() > 0 && !sets(userOptions, HEAP_OPTIONS)) {
            options.add("-XX:MaxRAM=" + (memoryEach(machine, jvms) >> 20) + "m");
        }
        long maxHeap = maxHeap(userOptions);
        if (!sets(userOptions, INITIAL_HEAP_OPTIONS) && (maxHeap < 0 || maxHeap >= bytes(INITIAL_HEAP.substring(4)))) {
            options.add(INITIAL_HEAP);
        }
        if (trimsNativeHeap(jdk) && !sets(userOptions, List.of(TRIM_OPTION))) {
            // Experimental in the JDKs that first had it (17.0.9, 21.0.1, 22), a product option since.
            options.addAll(List.of("-XX:+UnlockExperimentalVMOptions", TRIM_OPTION + TRIM_INTERVAL_MS));
        }
        return options;
    }

    /** Whether the JDK has -XX:TrimNativeHeapInterval: 17.0.9 and later 17s, 21.0.1 and later, 22 on. */
    public static boolean trimsNativeHeap(Runtime.Version jdk) {
        if (jdk == null) {
            return false;
        }
        int feature = jdk.feature();
        return feature >= 22 || feature == 21 && jdk.update() >= 1 || feature == 17 && jdk.update() >= 9;
    }

    private static boolean sets(List<String> userOptions, List<String> prefixes) {
        return userOptions.stream().anyMatch(o -> prefixes.stream().anyMatch(o::startsWith));
    }

    static int cpusEach(Machine machine, int jvms) {
        return Math.max(1, machine.cpus() / Math.max(1, jvms));
    }

    static long memoryEach(Machine machine, int jvms) {
        return machine.memoryBytes() / Math.max(1, jvms);
    }

    /** One line for the log: what each worker JVM is sized for. */
    public static String describe(Machine machine, int jvms, List<String> userOptions, Runtime.Version jdk) {
        List<String> options = options(machine, jvms, userOptions, jdk);
        return "each of " + jvms + " worker JVM(s) sized for its share of " + machine.cpus() + " CPU(s) and "
                + (machine.memoryBytes() >> 20) + " MiB: " + (options.isEmpty() ? "nothing to add (--jvm-opt sets both)"
                : String.join(" ", options)) + " (--jvm-share auto)";
    }

    /**
     * The start-up warning when the workers' maximum heaps, from an -Xmx or -XX:MaxHeapSize given,
     * add up to more than the memory there is; null when they fit or none was given.
     */
    public static String overcommit(Machine machine, int jvms, List<String> userOptions) {
        long heap = maxHeap(userOptions);
        if (heap <= 0 || machine.memoryBytes() <= 0 || heap * jvms <= machine.memoryBytes()) {
            return null;
        }
        return jvms + " worker JVM(s) with a maximum heap of " + (heap >> 20) + " MiB each may use "
                + ((heap * jvms) >> 20) + " MiB of heap, more than the " + (machine.memoryBytes() >> 20)
                + " MiB this machine (or container) has: under load the kernel's OOM killer, not the JVM, will"
                + " stop them; give each less (--jvm-opt=-Xmx...) or run fewer";
    }

    /** The maximum heap an -Xmx or -XX:MaxHeapSize in {@code userOptions} gives (the last wins); -1 if none. */
    private static long maxHeap(List<String> userOptions) {
        long heap = -1;
        for (String o : userOptions) {
            if (o.startsWith("-Xmx")) {
                heap = bytes(o.substring(4));
            } else if (o.startsWith("-XX:MaxHeapSize=")) {
                heap = bytes(o.substring("-XX:MaxHeapSize=".length()));
            }
        }
        return heap;
    }

    /** "512m", "2g", "1048576": the JVM's size syntax; -1 if unreadable. */
    static long bytes(String size) {
        String s = size.trim().toLowerCase(Locale.ROOT);
        long unit = s.endsWith("k") ? 1L << 10 : s.endsWith("m") ? 1L << 20 : s.endsWith("g") ? 1L << 30
                : s.endsWith("t") ? 1L << 40 : 1;
        try {
            return Long.parseLong(unit == 1 ? s : s.substring(0, s.length() - 1)) * unit;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unknown: no heap share
        }
        return -1;
    }

    /** cgroup v2's memory.max for our own cgroup (v1's limit_in_bytes), or -1 for none. */
    private static long cgroupMemoryLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                if (line.startsWith("0::")) {
                    return limit(Path.of("/sys/fs/cgroup" + line.substring(3), "memory.max"));
                }
            }
        } catch (IOException e) {
            // no cgroup information: fall through
        }
        return limit(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    }

    private static long limit(Path file) {
        try {
            String value = Files.readString(file).trim();
            long n = value.equals("max") ? -1 : Long.parseLong(value);
            return n > 0 && n < (1L << 60) ? n : -1;  // v1 says "no limit" with a huge number
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
