package io.prefork.supervisor.launch;

import io.prefork.posix.CpuPriority;
import io.prefork.posix.Processes;
import io.prefork.protocol.WorkerEnvironment;
import io.prefork.supervisor.WorkerLauncher;
import io.prefork.supervisor.WorkerProcess;
import io.prefork.supervisor.net.SocketActivation;
import io.prefork.unix.NativeException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Starts each worker as {@code java [opts] -cp <worker libs>:<app> io.prefork.worker.Launcher <app> [args]},
 * through {@code setpriv} under --user ({@link RunAs#prefix}).
 */
public final class JvmWorkerLauncher implements WorkerLauncher {
    /**
     * Set for a new supervisor during an upgrade (the upgrade package does): where the old one
     * waits. Never passed on to a worker, like the service manager's variables.
     */
    public static final String UPGRADE_SOCKET = "PREFORK_UPGRADE_SOCKET";

    private final List<String> prefix;
    private final List<String> command;
    private final Supplier<List<String>> extraOptions;
    private final Map<String, String> environment;
    private final BootPriority priority;

    /**
     * @param runAs        who the workers run as (--user), or null
     * @param extraOptions JVM options asked for at each launch (a class archive, once it is ready)
     * @param environment  what every worker gets, from {@link #environment}
     * @param priority     what a boot that yields the CPU runs at (--boot-nice)
     */
    public JvmWorkerLauncher(RunAs runAs, List<String> command, Supplier<List<String>> extraOptions,
                             Map<String, String> environment, BootPriority priority) {
        this.prefix = runAs == null ? List.of() : runAs.prefix();
        this.command = List.copyOf(command);
        this.extraOptions = extraOptions;
        this.environment = Map.copyOf(environment);
        this.priority = priority;
    }

    /**
     * @param heartbeat how often workers send HEARTBEAT
     * @param logFile   the log file workers reopen on REOPEN, or null when they log to the inherited stderr
     * @param privateListener whether an app that takes its listener from the JVM may warm up on a TCP one of its own
     */
    public static Map<String, String> environment(String controlSocket, String readyMode, Duration gracefulTimeout,
                                           Duration heartbeat, String logFile, int warmupRequests,
                                           String warmupPath, boolean privateListener) {
        Map<String, String> env = new java.util.HashMap<>();
        env.put(WorkerEnvironment.CONTROL_SOCKET, controlSocket);
        env.put(WorkerEnvironment.READY_MODE, readyMode);
        env.put(WorkerEnvironment.GRACEFUL_TIMEOUT_MS, Long.toString(gracefulTimeout.toMillis()));
        env.put(WorkerEnvironment.HEARTBEAT_MS, Long.toString(heartbeat.toMillis()));
        if (logFile != null) {
            env.put(WorkerEnvironment.LOG_FILE, logFile);
        }
        if (warmupRequests > 0) {
            env.put(WorkerEnvironment.WARMUP_REQUESTS, Integer.toString(warmupRequests));
        }
        env.put(WorkerEnvironment.WARMUP_PATH, warmupPath);  // the training run's requests ask for it too
        if (!privateListener) {
            env.put(WorkerEnvironment.WARMUP_LISTENER, "false");
        }
        return env;
    }

    private static final List<String> SERVICE_MANAGER_VARIABLES = java.util.stream.Stream.concat(
            SocketActivation.VARIABLES.stream(),
            java.util.stream.Stream.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "FDSTORE", JvmWorkerLauncher.UPGRADE_SOCKET))
            .toList();

    @Override
    public WorkerProcess launch(Spec spec) throws IOException {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(command);
        full.addAll(prefix.size() + 1, extraOptions.get());
        ProcessBuilder pb = new ProcessBuilder(full);
        Map<String, String> env = pb.environment();
        // systemd's variables (and an upgrade's) describe the supervisor: its pid, its fds, its duties.
        SERVICE_MANAGER_VARIABLES.forEach(env::remove);
        env.putAll(environment);
        env.put(WorkerEnvironment.TOKEN, spec.token());
        env.put(WorkerEnvironment.WORKER_ID, Integer.toString(spec.workerId()));
        env.remove(WorkerEnvironment.MAX_REQUESTS);
        if (spec.maxRequests() > 0) {
            env.put(WorkerEnvironment.MAX_REQUESTS, Long.toString(spec.maxRequests()));
        }
        // stdin is replaced by listener 0 in the worker; its logs go straight to our stdout/stderr.
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        // Started from this thread lowered to the boot priority, the JVM and every thread it starts inherit it.
        boolean yields = spec.yieldCpu() && priority.yields() && setThisThread(priority.booting());
        try {
            return new JvmWorkerProcess(pb.start(), yields ? priority.normal() : null);
        } catch (IOException e) {
            // The JDK says "error=N, strerror": EAGAIN (process limit), ENOMEM, ENFILE, EMFILE pass.
            String m = String.valueOf(e.getMessage());
            if (m.contains("error=11,") || m.contains("error=12,") || m.contains("error=23,") || m.contains("error=24,")) {
                throw new ResourcesExhausted(m, e);
            }
            throw e;
        } finally {
            if (yields) {
                setThisThread(priority.normal());  // allowed: BootPriority checked the right to lift
            }
        }
    }

    /** False if it could not be done: the worker then boots at the normal priority, a boot like any other. */
    private static boolean setThisThread(int nice) {
        try {
            CpuPriority.setThisThread(nice);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static final class JvmWorkerProcess implements WorkerProcess {
        private final Process process;
        /** While it boots at a lower priority, the one to lift it back to; else null. */
        private Integer liftTo;

        JvmWorkerProcess(Process process, Integer liftTo) {
            this.process = process;
            this.liftTo = liftTo;
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
            process.toHandle().destroy();
        }

        @Override
        public void kill() {
            process.toHandle().destroyForcibly();
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
            return process.onExit().thenApply(Process::exitValue);
        }
    }
}
