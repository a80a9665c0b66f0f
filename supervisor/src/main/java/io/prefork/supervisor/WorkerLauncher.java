package io.prefork.supervisor;

import java.io.IOException;

/** Starts worker processes; the real one runs {@code java ... io.prefork.worker.Launcher}. */
public interface WorkerLauncher {
    /**
     * @param workerId    the slot, 1..N
     * @param token       the one-time secret the worker must present in HELLO
     * @param maxRequests the worker asks to be recycled after this many requests; 0 means never
     * @param yieldCpu    it boots while others serve, and nobody waits for it: it may boot at a lower CPU priority
     */
    record Spec(int workerId, String token, long maxRequests, boolean yieldCpu) {
    }

    WorkerProcess launch(Spec spec) throws IOException;

    /**
     * The JVM accepted a class archive (or recorded cache) that workers launched from now on start
     * with. A launcher that keeps a note of what it starts (scripts/prefork's first worker) writes it again.
     */
    default void archiveReady() {
    }

    /**
     * The process could not be started for want of a resource that comes back (fds, memory, the
     * process limit): not the worker's failure, so it does not count toward giving up.
     */
    final class ResourcesExhausted extends IOException {
        private static final long serialVersionUID = 1L;

        public ResourcesExhausted(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
