package io.prefork.worker;

import io.prefork.protocol.WorkerEnvironment;
import java.time.Instant;

/** One line per event on stderr: time, worker id and pid, as the supervisor logs. */
final class WorkerLog {
    private static final long PID = ProcessHandle.current().pid();
    private static volatile String prefix = "worker ? (pid " + PID + "): ";

    private WorkerLog() {
    }

    static void setWorkerId(int id) {
        prefix = (id != 0 ? "worker " + id : training() ? "trainer" : "spare") + " (pid " + PID + "): ";
    }

    /** The class archive's training run: it boots like a spare and never takes a real connection. */
    static boolean training() {
        return System.getProperty(WorkerEnvironment.TRAINING_PROPERTY) != null;
    }

    static void info(String message) {
        System.err.println(Instant.now() + " prefork " + prefix + message);
    }
}
