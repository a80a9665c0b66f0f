package io.prefork.supervisor;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * Who may open a connection to the workers' control socket: the pids of workers this supervisor
 * started that have not connected yet, each once. The loop adds a pid right after it starts the
 * process and drops it when the process exits; the control socket's acceptor claims it, from
 * SO_PEERCRED, before it reads a byte. Anyone else is closed at once, so garbage, huge lines or a
 * thousand idle connections cost the supervisor nothing. The token check on HELLO still follows:
 * the pid alone is not trusted.
 *
 * <p>A native worker can connect before ProcessBuilder.start() has even returned its pid to the loop.
 * So a child of this process that is not expected yet gets {@link #LATE_REGISTRATION} for the loop to
 * expect it; only children wait, and each only once, so a foreign process is still refused at once.
 */
public final class ControlAdmission {
    /** How long a child's connection may wait for the loop to register its pid. */
    static final Duration LATE_REGISTRATION = Duration.ofSeconds(2);

    private final Set<Long> expected = new HashSet<>();
    private final Set<Long> claimed = new HashSet<>();
    private final LongPredicate isChild;

    public ControlAdmission() {
        this(ControlAdmission::isChildOfThisProcess);
    }

    ControlAdmission(LongPredicate isChild) {
        this.isChild = isChild;
    }

    synchronized void expect(long pid) {
        if (!claimed.contains(pid)) {
            expected.add(pid);
            notifyAll();
        }
    }

    synchronized void forget(long pid) {
        expected.remove(pid);
        claimed.remove(pid);
    }

    /**
     * True once for a pid that was expected, or that is expected within {@link #LATE_REGISTRATION}
     * if it is a child of this process; false for anyone else, and for a second connection.
     */
    public synchronized boolean claim(long pid) throws InterruptedException {
        if (!expected.contains(pid) && !claimed.contains(pid) && isChild.test(pid)) {
            long deadline = System.nanoTime() + LATE_REGISTRATION.toNanos();
            for (long left; !expected.contains(pid) && (left = deadline - System.nanoTime()) > 0; ) {
                wait(Math.max(1, left / 1_000_000));
            }
        }
        if (expected.remove(pid)) {
            claimed.add(pid);
            return true;
        }
        return false;
    }

    /** Whether {@code pid} is a child of this process (its parent is this process). */
    public static boolean isChildOfThisProcess(long pid) {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(p -> p.pid() == self).orElse(false);
    }
}
