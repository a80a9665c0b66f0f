package io.prefork.supervisor.launch;

import io.prefork.posix.CpuPriority;
import io.prefork.posix.Processes;
import io.prefork.supervisor.WorkerProcess;
import io.prefork.unix.NativeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** A worker JVM the supervisor started (a ProcessBuilder's) or took as its first one ({@link FirstWorker}). */
final class WorkerJvm implements WorkerProcess {
    private final ProcessHandle process;
    private final CompletableFuture<Integer> exit;
    /** While it boots at a lower priority, the one to lift it back to; else null. */
    private Integer liftTo;

    /** @param exit completes with the exit value once the process is reaped */
    WorkerJvm(ProcessHandle process, CompletableFuture<Integer> exit, Integer liftTo) {
        this.process = process;
        this.exit = exit;
        this.liftTo = liftTo;
    }

    static WorkerJvm of(Process process, Integer liftTo) {
        return new WorkerJvm(process.toHandle(), process.onExit().thenApply(Process::exitValue), liftTo);
    }

    @Override
    public boolean yieldsCpu() {
        return liftTo != null;
    }

    @Override
    public void stopYielding() throws IOException {
        if (liftTo != null) {
            int nice = liftTo;
            liftTo = null;
            CpuPriority.setEveryThread(process.pid(), nice);
        }
    }

    @Override
    public long pid() {
        return process.pid();
    }

    /** ProcessHandle checks the start time before signalling, so a recycled pid is never hit. */
    @Override
    public void terminate() {
        process.destroy();
    }

    @Override
    public void kill() {
        process.destroyForcibly();
    }

    @Override
    public void signal(int signal) {
        if (process.isAlive()) {
            try {
                Processes.kill(process.pid(), signal);
            } catch (NativeException e) {
                // EPERM cannot happen for our own child; anything else leaves nothing to do
            }
        }
    }

    /** VmRSS from /proc/PID/status. */
    @Override
    public long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the process is gone, or a kernel without VmRSS
        }
        return -1;
    }

    /** utime + stime from /proc/PID/stat, in clock ticks of 10 ms (USER_HZ is 100 on Linux). */
    @Override
    public long cpuMillis() {
        try {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (IOException | RuntimeException e) {
            return -1;  // the process is gone
        }
    }

    @Override
    public CompletableFuture<Integer> onExit() {
        return exit;
    }
}
