package io.prefork.posix;

import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import jnr.posix.POSIX;

/** Signals to processes, with jnr-posix. */
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
}
