package io.prefork.posix;

import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import jnr.posix.POSIX;

/** Signals to processes, and reaping a child the JDK did not start, with jnr-posix. */
public final class Processes {
    private Processes() {
    }

    /** Sends a signal; returns false if the process no longer exists. */
    public static boolean kill(long pid, int signal) throws NativeException {
        POSIX posix = JnrPosix.posix();
        if (posix.kill(pid, signal) == 0) {
            return true;
        }
        if (posix.errno() == Linux.ESRCH) {
            return false;
        }
        throw JnrPosix.failure(posix, "kill(" + pid + ", " + signal + ")");
    }

    /**
     * Waits for a child of this process that the JDK did not start (a ProcessBuilder's children are
     * the JDK's to reap) and reaps it. Returns its exit value: its exit status, or 128+N for death by
     * signal N.
     */
    public static int reap(long pid) throws NativeException {
        POSIX posix = JnrPosix.posix();
        int[] status = new int[1];
        while (posix.waitpid(pid, status, 0) < 0) {
            if (posix.errno() != Linux.EINTR) {
                throw JnrPosix.failure(posix, "waitpid(" + pid + ")");
            }
        }
        int signal = status[0] & 0x7f;
        return signal == 0 ? (status[0] >> 8) & 0xff : 128 + signal;
    }
}
