package io.prefork.supervisor.launch;

import io.prefork.posix.CpuPriority;
import io.prefork.protocol.WorkerEnvironment;
import io.prefork.supervisor.WorkerLauncher;
import io.prefork.supervisor.WorkerProcess;
import io.prefork.supervisor.net.SocketActivation;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    private final FirstWorker first;

    /**
     * @param runAs        who the workers run as (--user), or null
     * @param extraOptions JVM options asked for at each launch (a class archive, once it is ready)
     * @param environment  what every worker gets, from {@link #environment}
     * @param priority     what a boot that yields the CPU runs at (--boot-nice)
     * @param first        the first worker scripts/prefork started beside this JVM, or null
     */
    public JvmWorkerLauncher(RunAs runAs, List<String> command, Supplier<List<String>> extraOptions,
                             Map<String, String> environment, BootPriority priority, FirstWorker first) {
        this.prefix = runAs == null ? List.of() : runAs.prefix();
        this.command = List.copyOf(command);
        this.extraOptions = extraOptions;
        this.environment = Map.copyOf(environment);
        this.priority = priority;
        this.first = first;
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
            java.util.stream.Stream.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "FDSTORE", JvmWorkerLauncher.UPGRADE_SOCKET,
                    FirstWorker.FILE, FirstWorker.STARTED))
            .toList();

    /** The whole command of a launch now: --user's prefix, java, the options asked for now, the rest. */
    private List<String> fullCommand() {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(command);
        full.addAll(prefix.size() + 1, extraOptions.get());
        return full;
    }

    @Override
    public WorkerProcess launch(Spec spec) throws IOException {
        List<String> full = fullCommand();
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
        if (first != null) {
            WorkerProcess taken = first.take(spec, full, env, prefix.isEmpty() && full.contains(WorkerCommand.LAUNCHER));
            if (taken != null) {
                return taken;
            }
        }
        // stdin is replaced by listener 0 in the worker; its logs go straight to our stdout/stderr.
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        // Started from this thread lowered to the boot priority, the JVM and every thread it starts inherit it.
        boolean yields = spec.yieldCpu() && priority.yields() && setThisThread(priority.booting());
        try {
            return WorkerJvm.of(pb.start(), yields ? priority.normal() : null);
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

    /** The next start's first worker starts with the archive too, and is taken beside it instead of killed. */
    @Override
    public void archiveReady() {
        if (first != null) {
            first.commandChanged(fullCommand());
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
}
