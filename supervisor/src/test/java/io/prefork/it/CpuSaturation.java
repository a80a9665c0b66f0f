package io.prefork.it;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Busy-loop processes, one more than there are cores, so every core is saturated while a test runs:
 * a drain, roll or recycle that loses nothing only on an idle machine fails here. Each loop is a
 * {@code sh} process ended by its PID in {@link #close()}, and a JVM shutdown hook ends any left over.
 */
final class CpuSaturation implements AutoCloseable {
    private final List<Process> loops = new ArrayList<>();
    private final Thread reaper = new Thread(this::killAll, "cpu-saturation-reaper");

    private CpuSaturation() {
    }

    /** Starts {@code cores + 1} busy loops. */
    static CpuSaturation start() throws IOException {
        CpuSaturation s = new CpuSaturation();
        Runtime.getRuntime().addShutdownHook(s.reaper);
        int n = Runtime.getRuntime().availableProcessors() + 1;
        try {
            for (int i = 0; i < n; i++) {
                s.loops.add(new ProcessBuilder("sh", "-c", "while :; do :; done")
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start());
            }
        } catch (IOException e) {
            s.close();
            throw e;
        }
        System.out.println("CPU saturated: " + n + " busy loops, pids " + s.pids());
        return s;
    }

    List<Long> pids() {
        return loops.stream().map(Process::pid).toList();
    }

    private void killAll() {
        for (Process p : loops) {
            p.destroyForcibly();
        }
    }

    @Override
    public void close() {
        killAll();
        List<Long> left = new ArrayList<>();
        for (Process p : loops) {
            if (!RunningSupervisor.awaitGone(p.pid(), Duration.ofSeconds(10))) {
                left.add(p.pid());
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
        if (!left.isEmpty()) {
            throw new AssertionError("busy loops still running after the test: " + left);
        }
    }
}
