package io.prefork.supervisor;

import java.io.IOException;
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

    /** Whether it boots at a lower CPU priority than the supervisor's (--boot-nice), until {@link #stopYielding}. */
    default boolean yieldsCpu() {
        return false;
    }

    /** Lifts every thread of it back to the supervisor's CPU priority, if it yields. */
    default void stopYielding() throws IOException {
    }

    /** Completes with the exit value (128+N for death by signal N) once the process is reaped. */
    CompletableFuture<Integer> onExit();
}
