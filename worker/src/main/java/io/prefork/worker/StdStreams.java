package io.prefork.worker;

import io.prefork.unix.NativeException;
import io.prefork.unix.Posix;
import java.io.BufferedOutputStream;
import java.io.PrintStream;

/**
 * Keeps the worker's stdout and stderr alive across the close of the inherited channel.
 *
 * <p>Closing the channel {@link System#inheritedChannel()} returned makes the JDK dup2 /dev/null
 * over fds 0, 1 and 2, so every later log line would vanish. That close happens in the middle of a
 * graceful stop (Jetty closes its connector first), which is exactly when logs matter. So at start
 * we copy fds 1 and 2 and point System.out and System.err at the copies, which the JDK never touches;
 * at the end of a stop we restore fds 1 and 2 for anything that writes to them natively.
 */
final class StdStreams {
    private static int savedOut = -1;
    private static int savedErr = -1;

    private StdStreams() {
    }

    static synchronized void protect() throws NativeException {
        savedOut = Posix.dup(1);
        savedErr = Posix.dup(2);
        System.setOut(new PrintStream(new BufferedOutputStream(new FdOutputStream(savedOut), 8192), true));
        System.setErr(new PrintStream(new BufferedOutputStream(new FdOutputStream(savedErr), 8192), true));
    }

    /** Appends stdout and stderr, and our copies of them, to {@code path} from now on. */
    static synchronized void reopen(String path) throws NativeException {
        if (savedOut < 0) {
            Posix.redirectStdoutAndStderr(path);
        } else {
            Posix.redirectStdoutAndStderr(path, savedOut, savedErr);
        }
    }

    static synchronized void restore() {
        if (savedOut < 0) {
            return;
        }
        try {
            Posix.dup2(savedOut, 1);
            Posix.dup2(savedErr, 2);
        } catch (NativeException e) {
            WorkerLog.info("could not restore stdout/stderr: " + e.getMessage());
        }
    }
}
