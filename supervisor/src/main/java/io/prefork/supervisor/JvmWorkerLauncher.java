package io.prefork.supervisor;

import io.prefork.protocol.WorkerEnvironment;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Starts each worker as {@code java [opts] -cp <worker libs>:<app> io.prefork.worker.Launcher <app> [args]}. */
public final class JvmWorkerLauncher implements WorkerLauncher {
    private final List<String> command;
    private final String controlSocket;
    private final String readyMode;
    private final Duration gracefulTimeout;

    public JvmWorkerLauncher(List<String> command, String controlSocket, String readyMode, Duration gracefulTimeout) {
        this.command = List.copyOf(command);
        this.controlSocket = controlSocket;
        this.readyMode = readyMode;
        this.gracefulTimeout = gracefulTimeout;
    }

    @Override
    public WorkerProcess launch(int workerId, String token) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.put(WorkerEnvironment.CONTROL_SOCKET, controlSocket);
        env.put(WorkerEnvironment.TOKEN, token);
        env.put(WorkerEnvironment.WORKER_ID, Integer.toString(workerId));
        env.put(WorkerEnvironment.READY_MODE, readyMode);
        env.put(WorkerEnvironment.GRACEFUL_TIMEOUT_MS, Long.toString(gracefulTimeout.toMillis()));
        // stdin is replaced by listener 0 in the worker; its logs go straight to our stdout/stderr.
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return new JvmWorkerProcess(pb.start());
    }

    private static final class JvmWorkerProcess implements WorkerProcess {
        private final Process process;

        JvmWorkerProcess(Process process) {
            this.process = process;
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
        public CompletableFuture<Integer> onExit() {
            return process.onExit().thenApply(Process::exitValue);
        }
    }
}
