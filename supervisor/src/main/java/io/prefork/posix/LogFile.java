package io.prefork.posix;

import io.prefork.unix.NativeException;
import jnr.constants.platform.OpenFlags;
import jnr.posix.POSIX;

/** The supervisor's log file, with jnr-posix. */
public final class LogFile {
    private static final int FLAGS = OpenFlags.O_WRONLY.intValue() | OpenFlags.O_CREAT.intValue()
            | OpenFlags.O_APPEND.intValue() | OpenFlags.O_CLOEXEC.intValue();

    private LogFile() {
    }

    /**
     * Points fds 1 and 2 at {@code path}, opened for appending: how the log file is (re)opened so
     * that everything writing to stdout and stderr, the JVM's own thread dumps included, follows it.
     */
    public static void redirectStdoutAndStderr(String path) throws NativeException {
        POSIX posix = JnrPosix.posix();
        int fd = posix.open(path, FLAGS, 0644);
        if (fd < 0) {
            throw JnrPosix.failure(posix, "open(" + path + ")");
        }
        try {
            for (int target : new int[] {1, 2}) {
                if (posix.dup2(fd, target) < 0) {
                    throw JnrPosix.failure(posix, "dup2(" + fd + ", " + target + ")");
                }
            }
        } finally {
            posix.close(fd);
        }
    }
}
