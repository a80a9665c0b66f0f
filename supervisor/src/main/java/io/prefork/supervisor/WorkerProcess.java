package io.prefork.supervisor;

import java.util.concurrent.CompletableFuture;

/** The seam between the supervisor's state machine and a real worker process. */
public interface WorkerProcess {
    long pid();

    /** SIGTERM: the JVM runs its shutdown hooks and exits. */
    void terminate();

    /** SIGKILL. */
    void kill();

    /** Any other signal (SIGCONT, SIGQUIT for a thread dump), if the process still runs. */
    void signal(int signal);

    /** Resident memory in bytes, or -1 if unknown. */
    long rssBytes();

    /** CPU time used so far (user + system), in milliseconds, or -1 if unknown: whether it runs. */
    long cpuMillis();

    /** Completes with the exit value (128+N for death by signal N) once the process is reaped. */
    CompletableFuture<Integer> onExit();
}
