package io.prefork.unix;

/**
 * Taking a socket away from the threads that wait on it, without the app's help: remove it from an
 * epoll set, and wake a thread blocked in a system call on it.
 */
public final class Interrupts {
    private Interrupts() {
    }

    /** epoll_ctl(EPOLL_CTL_DEL): the epoll set {@code epfd} stops watching {@code fd}. */
    public static void removeFromEpoll(int epfd, int fd) throws NativeException {
        if (Native.libc().epoll_ctl(epfd, Linux.EPOLL_CTL_DEL, fd, null) < 0) {
            throw Native.failure("epoll_ctl(EPOLL_CTL_DEL, " + fd + ")");
        }
    }

    /**
     * Sends {@code signal} to one thread of this process (tgkill). A thread blocked in accept() then
     * returns EINTR if the signal has a handler installed without SA_RESTART.
     */
    public static void signalThread(int tid, int signal) throws NativeException {
        int pid = (int) ProcessHandle.current().pid();
        if (Native.libc().tgkill(pid, tid, signal) < 0) {
            throw Native.failure("tgkill(" + tid + ", " + signal + ")");
        }
    }
}
