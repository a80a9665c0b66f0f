package io.prefork.unix;

/**
 * Linux constants (x86_64 and aarch64 share these values), named once so no call site carries a
 * magic number. Values are from the kernel's uapi headers.
 */
public final class Linux {
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;

    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = 0x80000;

    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_TYPE = 3;
    public static final int SO_ACCEPTCONN = 30;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_INFO = 11;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVTIMEO = 20;
    public static final int IPPROTO_IPV6 = 41;
    public static final int IPV6_V6ONLY = 26;

    public static final int SCM_RIGHTS = 1;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RDWR = 2;
    public static final long FIONREAD = 0x541B;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;

    public static final int O_WRONLY = 01;
    public static final int O_CREAT = 0100;
    public static final int O_APPEND = 02000;
    public static final int O_CLOEXEC = 02000000;


    public static final int EINTR = 4;
    public static final int ESRCH = 3;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOMEM = 12;
    public static final int ENOBUFS = 105;
    public static final int ECONNREFUSED = 111;
    public static final int EADDRINUSE = 98;

    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    public static final int SIGTTIN = 21;
    public static final int SIGTTOU = 22;
    public static final int SIGWINCH = 28;
    public static final int SIGTERM = 15;
    /** The JDK's own signal for waking a thread blocked in a channel operation (SIGRTMAX - 2). */
    public static final int SIG_JDK_INTERRUPT = 62;

    private Linux() {
    }
}
