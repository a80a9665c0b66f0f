package io.prefork.worker;

import java.time.Instant;

/** One line per event on stderr: time, worker id and pid, as the supervisor logs. */
final class WorkerLog {
    private static final long PID = ProcessHandle.current().pid();
    private static volatile String prefix = "worker ? (pid " + PID + "): ";

    private WorkerLog() {
    }

    static void setWorkerId(int id) {
        prefix = (id == 0 ? "spare" : "worker " + id) + " (pid " + PID + "): ";
    }

    static void info(String message) {
        System.err.println(Instant.now() + " prefork " + prefix + message);
    }
}
