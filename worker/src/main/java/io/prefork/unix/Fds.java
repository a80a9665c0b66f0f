package io.prefork.unix;

import java.util.Arrays;

/**
 * File descriptor calls on a worker's start path (dup2 onto fd 0, stdio) and at the supervisor's
 * start, before jnr-posix is ready, with the minimal binding: close, dup, dup2, write, close-on-exec,
 * shutdown (in neither library), and pointing stdout and stderr at a file.
 */
public final class Fds {
    private static final int F_SETFD = 2;
    private static final int F_GETFD = 1;
    private static final int FD_CLOEXEC = 1;

    private Fds() {
    }

    /**
     * Sets FD_CLOEXEC: jnr-unixsocket creates its sockets (and accepts connections) without
     * SOCK_CLOEXEC, so a program the process execs would inherit them.
     */
    public static void setCloseOnExec(int fd) throws NativeException {
        int flags = Native.libc().fcntl(fd, F_GETFD, 0);
        if (flags < 0 || Native.libc().fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
            throw Native.failure("fcntl(" + fd + ", F_SETFD, FD_CLOEXEC)");
        }
    }

    public static boolean isCloseOnExec(int fd) throws NativeException {
        int flags = Native.libc().fcntl(fd, F_GETFD, 0);
        if (flags < 0) {
            throw Native.failure("fcntl(" + fd + ", F_GETFD)");
        }
        return (flags & FD_CLOEXEC) != 0;
    }

    public static void writeFully(int fd, byte[] buf, int off, int len) throws NativeException {
        while (len > 0) {
            byte[] chunk = off == 0 ? buf : Arrays.copyOfRange(buf, off, off + len);
            long n = Native.libc().write(fd, chunk, len);
            if (n < 0) {
                if (Native.errno() == Linux.EINTR) {
                    continue;
                }
                throw Native.failure("write");
            }
            off += (int) n;
            len -= (int) n;
        }
    }

    /** Wakes any thread blocked on the socket (close alone would not) and ends both directions. */
    public static void shutdown(int fd) {
        Native.libc().shutdown(fd, Linux.SHUT_RDWR);
    }

    public static void close(int fd) throws NativeException {
        if (Native.libc().close(fd) < 0 && Native.errno() != Linux.EINTR) {
            throw Native.failure("close(" + fd + ")");
        }
    }

    public static int dup(int fd) throws NativeException {
        int copy = Native.libc().dup(fd);
        if (copy < 0) {
            throw Native.failure("dup(" + fd + ")");
        }
        return copy;
    }

    public static void dup2(int fd, int target) throws NativeException {
        if (Native.libc().dup2(fd, target) < 0) {
            throw Native.failure("dup2(" + fd + ", " + target + ")");
        }
    }

    /**
     * Points fds 1 and 2 (and any {@code extraFds}) at {@code path}, opened for appending: how a
     * worker's log file is (re)opened so that everything writing to stdout and stderr, the JVM's own
     * thread dumps included, follows it.
     */
    public static void redirectStdoutAndStderr(String path, int... extraFds) throws NativeException {
        int fd = Native.libc().open(path, Linux.O_WRONLY | Linux.O_CREAT | Linux.O_APPEND | Linux.O_CLOEXEC, 0644);
        if (fd < 0) {
            throw Native.failure("open(" + path + ")");
        }
        try {
            dup2(fd, 1);
            dup2(fd, 2);
            for (int extra : extraFds) {
                dup2(fd, extra);
            }
        } finally {
            close(fd);
        }
    }
}
