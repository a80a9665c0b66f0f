package io.prefork.unix;

/**
 * Taking a socket away from the threads that wait on it, or putting another in its place, without
 * the app's help: remove it from an epoll set (or add one), and wake a thread blocked in a system
 * call on it.
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
     * epoll_ctl(EPOLL_CTL_ADD): the epoll set {@code epfd} watches {@code fd} for {@code events},
     * reporting {@code data} (what the set's owner registered it with; the JDK's selector uses the fd).
     */
    public static void addToEpoll(int epfd, int fd, int events, long data) throws NativeException {
        // struct epoll_event: packed on x86_64 (data at offset 4), naturally aligned elsewhere (offset 8)
        jnr.ffi.Pointer event = jnr.ffi.Memory.allocateDirect(Native.runtime(), 16);
        event.putInt(0, events);
        event.putLong("amd64".equals(System.getProperty("os.arch")) ? 4 : 8, data);
        if (Native.libc().epoll_ctl(epfd, Linux.EPOLL_CTL_ADD, fd, event) < 0) {
            throw Native.failure("epoll_ctl(EPOLL_CTL_ADD, " + fd + ")");
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
