package io.prefork.unix;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * prefork's own minimal libc binding, with jnr-ffi: only what neither jnr-unixsocket nor jnr-posix
 * offers, or what a worker's start cannot afford (initialising jnr-posix costs a worker 300 ms; see
 * the README's dependencies). Each group says which. Public only because jnr-ffi must implement
 * it; only this package calls it.
 */
public interface LibC {
    // TCP listeners (Sockets): jnr-unixsocket does only Unix sockets, jnr-posix has no socket calls;
    // SO_REUSEPORT, IPV6_V6ONLY and TCP_INFO need setsockopt/getsockopt on our own fd.
    int socket(int domain, int type, int protocol);

    int setsockopt(int fd, int level, int name, @In int[] value, int len);

    int getsockopt(int fd, int level, int name, @Out byte[] value, @In @Out int[] len);

    int bind(int fd, @In byte[] addr, int len);

    int listen(int fd, int backlog);

    int getsockname(int fd, @Out byte[] addr, @In @Out int[] len);

    // connect(2) for a datagram Unix socket jnr-unixsocket made: its own connect() there only
    // records the address, and sendmsg with fds to systemd needs a connected socket.
    int connect(int fd, @In byte[] addr, int len);

    // Fd passing (FdPassing): a worker's recvmsg runs before any app code, the supervisor's sendmsg
    // beside its first workers' boots, where initialising jnr-posix costs too much.
    @ssize_t long recvmsg(int fd, Pointer msg, int flags);

    @ssize_t long sendmsg(int fd, Pointer msg, int flags);

    // Fds: on a worker's start path (dup2 onto fd 0, stdio) and at the supervisor's start, before
    // jnr-posix is ready. fcntl sets FD_CLOEXEC on the sockets jnr-unixsocket creates without it;
    // shutdown is in neither library.
    @ssize_t long write(int fd, @In byte[] buf, @size_t long count);

    int open(String path, int flags, int mode);

    int fcntl(int fd, int cmd, int arg);

    int shutdown(int fd, int how);

    int close(int fd);

    int dup(int fd);

    int dup2(int oldFd, int newFd);

    // --user's group list (Accounts): in neither library.
    int getgrouplist(String user, int group, @Out int[] groups, @In @Out int[] ngroups);

    // A worker's drain (Interrupts, SocketActivity): in neither library.
    int tgkill(int tgid, int tid, int sig);

    int ioctl(int fd, long request, @Out int[] value);

    int epoll_ctl(int epfd, int op, int fd, Pointer event);

    String strerror(int errno);
}
