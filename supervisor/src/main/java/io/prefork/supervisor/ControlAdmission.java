package io.prefork.supervisor;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may open a connection to the workers' control socket: the pids of workers this supervisor
 * started that have not connected yet, each once. The loop adds a pid right after it starts the
 * JVM (which takes tens of milliseconds before it can connect) and drops it when the process exits;
 * the control socket's acceptor claims it, from SO_PEERCRED, before it reads a byte. Anyone else is
 * closed at once, so garbage, huge lines or a thousand idle connections cost the supervisor nothing.
 * The token check on HELLO still follows: the pid alone is not trusted.
 */
final class ControlAdmission {
    private final Set<Long> expected = ConcurrentHashMap.newKeySet();

    void expect(long pid) {
        expected.add(pid);
    }

    void forget(long pid) {
        expected.remove(pid);
    }

    /** True once for a pid that was expected; false for anyone else, and for a second connection. */
    boolean claim(long pid) {
        return expected.remove(pid);
    }
}
