package io.prefork.worker;

import io.prefork.unix.NativeException;
import io.prefork.unix.Fds;
import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;

/**
 * Keeps the worker's stdout and stderr alive across the close of the inherited channel.
 *
 * <p>Closing the channel {@link System#inheritedChannel()} returned makes the JDK dup2 /dev/null
 * over fds 0, 1 and 2, so every later log line would vanish. That close happens in the middle of a
 * graceful stop (Jetty closes its connector first), which is exactly when logs matter. So at start
 * we copy fds 1 and 2 and point System.out and System.err at the copies, which the JDK never touches;
 * at the end of a stop we restore fds 1 and 2 for anything that writes to them natively.
 *
 * <p>The JVM itself writes to fds 1 and 2 natively, and a silent worker's thread dump (SIGQUIT) is
 * printed during exactly that stop. So we also give the JDK our copy of stdout as its "/dev/null":
 * between the close and the restore, fds 1 and 2 both go to stdout's destination, never nowhere.
 */
final class StdStreams {
    private static int savedOut = -1;
    private static int savedErr = -1;

    private StdStreams() {
    }

    static synchronized void protect() throws NativeException {
        savedOut = Fds.dup(1);
        savedErr = Fds.dup(2);
        // The app's main may already be running (the worker connects beside it): what it printed goes first.
        System.out.flush();
        System.err.flush();
        System.setOut(new PrintStream(new BufferedOutputStream(new FdOutputStream(savedOut), 8192), true));
        System.setErr(new PrintStream(new BufferedOutputStream(new FdOutputStream(savedErr), 8192), true));
        detachOnto(savedOut);
    }

    /**
     * Sets the fd sun.nio.ch.InheritedChannel dup2s over fds 0, 1 and 2 when the channel closes
     * (private field {@code devnull}, the same on 17 and 25; it opens /dev/null only while it is -1).
     * Where that cannot be done (another JDK, a --worker-command without --add-opens), fds 1 and 2
     * go to /dev/null from the close until {@link #restore()}, as the JDK intends.
     */
    private static void detachOnto(int fd) {
        try {
            Class<?> inherited = Class.forName("sun.nio.ch.InheritedChannel", true, null);
            Field devnull = inherited.getDeclaredField("devnull");
            devnull.setAccessible(true);
            synchronized (inherited) { // getChannel() reads and sets it under this lock
                devnull.setInt(null, fd);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // see above: the JDK's behaviour stays
        }
    }

    /** Appends stdout and stderr, and our copies of them, to {@code path} from now on. */
    static synchronized void reopen(String path) throws NativeException {
        if (savedOut < 0) {
            Fds.redirectStdoutAndStderr(path);
        } else {
            Fds.redirectStdoutAndStderr(path, savedOut, savedErr);
        }
    }

    static synchronized void restore() {
        if (savedOut < 0) {
            return;
        }
        try {
            Fds.dup2(savedOut, 1);
            Fds.dup2(savedErr, 2);
        } catch (NativeException e) {
            WorkerLog.info("could not restore stdout/stderr: " + e.getMessage());
        }
    }
}
