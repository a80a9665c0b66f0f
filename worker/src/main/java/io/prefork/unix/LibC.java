package io.prefork.unix;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc functions prefork calls, bound with jnr-ffi. Only {@link Posix} uses this; everything
 * else goes through Posix, which checks results and turns errno into {@link NativeException}.
 * Kept small on purpose: binding all of jnr-posix costs a worker hundreds of milliseconds at start.
 */
public interface LibC {
    int socket(int domain, int type, int protocol);

    int setsockopt(int fd, int level, int name, @In int[] value, int len);

    int getsockopt(int fd, int level, int name, @Out byte[] value, @In @Out int[] len);

    int bind(int fd, @In byte[] addr, int len);

    int listen(int fd, int backlog);

    int getsockname(int fd, @Out byte[] addr, @In @Out int[] len);

    int connect(int fd, @In byte[] addr, int len);

    int accept4(int fd, Pointer addr, Pointer len, int flags);

    @ssize_t long read(int fd, @Out byte[] buf, @size_t long count);

    @ssize_t long write(int fd, @In byte[] buf, @size_t long count);

    @ssize_t long sendmsg(int fd, Pointer msg, int flags);

    @ssize_t long recvmsg(int fd, Pointer msg, int flags);

    int open(String path, int flags, int mode);

    int shutdown(int fd, int how);

    int close(int fd);

    int dup(int fd);

    int dup2(int oldFd, int newFd);

    int kill(int pid, int sig);

    int tgkill(int tgid, int tid, int sig);

    int ioctl(int fd, long request, @Out int[] value);

    int epoll_ctl(int epfd, int op, int fd, Pointer event);

    int setgroups(@size_t long size, @In int[] list);

    int setgid(int gid);

    int setuid(int uid);

    int getuid();

    int geteuid();

    int getgid();

    int getegid();

    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    Pointer getpwnam(String name);

    Pointer getgrnam(String name);

    int getgrouplist(String user, int group, @Out int[] groups, @In @Out int[] ngroups);

    String strerror(int errno);
}
