package io.prefork.unix;

import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Java-shaped wrappers over the few system calls prefork needs. Every wrapper checks the result,
 * retries EINTR where the call can be interrupted, and throws {@link NativeException} naming the call.
 * Linux on a 64-bit (LP64) CPU only: the msghdr layout below assumes it.
 */
public final class Posix {
    // struct msghdr / iovec / cmsghdr on LP64 Linux.
    private static final int MSGHDR_SIZE = 56;
    private static final int IOVEC_SIZE = 16;
    private static final int CMSG_HEADER = 16;
    /** The most fds one message may carry; prefork sends one per listener. */
    public static final int MAX_FDS = 64;

    private static final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    }

    private Posix() {
    }

    static LibC libc() {
        return Holder.LIBC;
    }

    static int errno() {
        return LastError.getLastError(Holder.RUNTIME);
    }

    static NativeException failure(String call) {
        int errno = errno();
        return new NativeException(call, errno, libc().strerror(errno));
    }

    /** Loads the native binding now, so a broken platform fails at start-up, not mid-flight. */
    public static void load() {
        libc();
    }

    public static int socket(int family) throws NativeException {
        int fd = libc().socket(family, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw failure("socket");
        }
        return fd;
    }

    /** An unbound Unix datagram socket: how a message reaches systemd's NOTIFY_SOCKET. */
    public static int datagramSocket() throws NativeException {
        int fd = libc().socket(Linux.AF_UNIX, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw failure("socket(AF_UNIX, SOCK_DGRAM)");
        }
        return fd;
    }

    private static int intOption(int fd, int level, int name, String what) throws NativeException {
        byte[] value = new byte[4];
        int[] len = {4};
        if (libc().getsockopt(fd, level, name, value, len) < 0) {
            throw failure("getsockopt(" + what + ")");
        }
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
    }

    /** True if the socket was bound with SO_REUSEPORT, so more sockets may listen on its port. */
    public static boolean reusesPort(int fd) throws NativeException {
        return intOption(fd, Linux.SOL_SOCKET, Linux.SO_REUSEPORT, "SO_REUSEPORT") != 0;
    }

    /** True for a stream socket in the listening state: what an inherited (LISTEN_FDS) fd must be. */
    public static boolean isListeningStream(int fd) throws NativeException {
        return intOption(fd, Linux.SOL_SOCKET, Linux.SO_TYPE, "SO_TYPE") == Linux.SOCK_STREAM
                && intOption(fd, Linux.SOL_SOCKET, Linux.SO_ACCEPTCONN, "SO_ACCEPTCONN") == 1;
    }

    /**
     * A listening TCP socket's accept queue: {@code [queued, limit]}. For a socket in LISTEN state the
     * kernel reports them in TCP_INFO's tcpi_unacked and tcpi_sacked (the fields at bytes 24 and 28).
     */
    public static int[] listenQueue(int fd) throws NativeException {
        byte[] info = new byte[104];
        int[] len = {info.length};
        if (libc().getsockopt(fd, Linux.IPPROTO_TCP, Linux.TCP_INFO, info, len) < 0) {
            throw failure("getsockopt(TCP_INFO)");
        }
        ByteBuffer b = ByteBuffer.wrap(info).order(ByteOrder.nativeOrder());
        return new int[] {b.getInt(24), b.getInt(28)};
    }

    /** The socket's address family: AF_INET, AF_INET6 or AF_UNIX. */
    public static int family(int fd) throws NativeException {
        return SocketAddresses.family(localAddress(fd));
    }

    /** A Unix socket's path, or '@' and its abstract name. */
    public static String localUnixPath(int fd) throws NativeException {
        byte[] sa = localAddress(fd);
        return SocketAddresses.readUnix(sa, sa.length);
    }

    /** getsockname: the sockaddr, exactly as long as the kernel says (an abstract name's length matters). */
    private static byte[] localAddress(int fd) throws NativeException {
        byte[] sa = new byte[128];
        int[] len = {sa.length};
        if (libc().getsockname(fd, sa, len) < 0) {
            throw failure("getsockname");
        }
        return Arrays.copyOf(sa, Math.min(len[0], sa.length));
    }

    /** Sends one datagram (or writes once) on a connected socket. */
    public static void send(int fd, byte[] data) throws NativeException {
        long n;
        do {
            n = libc().write(fd, data, data.length);
        } while (n < 0 && errno() == Linux.EINTR);
        if (n < 0) {
            throw failure("send");
        }
    }

    public static void setIntOption(int fd, int level, int name, int value, String what) throws NativeException {
        if (libc().setsockopt(fd, level, name, new int[] {value}, 4) < 0) {
            throw failure("setsockopt(" + what + ")");
        }
    }

    /** SO_RCVTIMEO: a blocking read gives up with EAGAIN after {@code timeout}. */
    public static void setReceiveTimeout(int fd, Duration timeout) throws NativeException {
        long seconds = timeout.getSeconds();
        long micros = timeout.getNano() / 1000;
        // struct timeval { long tv_sec; long tv_usec; } as four little-endian ints.
        int[] timeval = {(int) seconds, (int) (seconds >>> 32), (int) micros, 0};
        if (libc().setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_RCVTIMEO, timeval, 16) < 0) {
            throw failure("setsockopt(SO_RCVTIMEO)");
        }
    }

    public static void bind(int fd, InetSocketAddress address, String what) throws NativeException {
        byte[] sa = SocketAddresses.inet(address);
        if (libc().bind(fd, sa, sa.length) < 0) {
            throw failure("bind(" + what + ")");
        }
    }

    /** Binds a Unix socket to a path, or to an abstract name when {@code path} starts with '@'. */
    public static void bindUnix(int fd, String path) throws NativeException {
        byte[] sa = SocketAddresses.unix(path);
        if (libc().bind(fd, sa, sa.length) < 0) {
            throw failure("bind(unix:" + path + ")");
        }
    }

    public static void listen(int fd, int backlog, String what) throws NativeException {
        if (libc().listen(fd, backlog) < 0) {
            throw failure("listen(" + what + ")");
        }
    }

    /** The address a TCP socket is bound to: how a port-0 bind learns its port. */
    public static InetSocketAddress localInetAddress(int fd) throws NativeException {
        return SocketAddresses.readInet(localAddress(fd));
    }

    public static void connectUnix(int fd, String path) throws NativeException {
        byte[] sa = SocketAddresses.unix(path);
        if (libc().connect(fd, sa, sa.length) < 0) {
            throw failure("connect(unix:" + path + ")");
        }
    }

    public static int accept(int fd) throws NativeException {
        while (true) {
            int client = libc().accept4(fd, null, null, Linux.SOCK_CLOEXEC);
            if (client >= 0) {
                return client;
            }
            if (errno() != Linux.EINTR) {
                throw failure("accept");
            }
        }
    }

    /** Reads up to {@code buf.length} bytes; returns -1 at end of stream. */
    public static int read(int fd, byte[] buf) throws NativeException {
        while (true) {
            long n = libc().read(fd, buf, buf.length);
            if (n >= 0) {
                return n == 0 ? -1 : (int) n;
            }
            if (errno() != Linux.EINTR) {
                throw failure("read");
            }
        }
    }

    public static void writeFully(int fd, byte[] buf, int off, int len) throws NativeException {
        while (len > 0) {
            byte[] chunk = off == 0 ? buf : Arrays.copyOfRange(buf, off, off + len);
            long n = libc().write(fd, chunk, len);
            if (n < 0) {
                if (errno() == Linux.EINTR) {
                    continue;
                }
                throw failure("write");
            }
            off += (int) n;
            len -= (int) n;
        }
    }

    /** Sends {@code data} with {@code fds} attached as SCM_RIGHTS (the fds ride on the first byte). */
    public static void sendWithFds(int fd, byte[] data, int[] fds) throws NativeException {
        if (fds.length == 0 || fds.length > MAX_FDS) {
            throw new IllegalArgumentException("can send 1.." + MAX_FDS + " fds, not " + fds.length);
        }
        Runtime rt = Holder.RUNTIME;
        Pointer payload = Memory.allocateDirect(rt, data.length);
        payload.put(0, data, 0, data.length);
        int space = CMSG_HEADER + align8(4 * fds.length);
        Pointer control = Memory.allocateDirect(rt, space, true);
        control.putLong(0, CMSG_HEADER + 4L * fds.length);
        control.putInt(8, Linux.SOL_SOCKET);
        control.putInt(12, Linux.SCM_RIGHTS);
        for (int i = 0; i < fds.length; i++) {
            control.putInt(CMSG_HEADER + 4L * i, fds[i]);
        }
        Pointer msg = message(rt, payload, data.length, control, space);
        long sent;
        do {
            sent = libc().sendmsg(fd, msg, Linux.MSG_NOSIGNAL);
        } while (sent < 0 && errno() == Linux.EINTR);
        Reference.reachabilityFence(payload);
        Reference.reachabilityFence(control);
        if (sent < 0) {
            throw failure("sendmsg");
        }
        if (sent < data.length) {
            writeFully(fd, data, (int) sent, data.length - (int) sent);
        }
    }

    /**
     * Reads like {@link #read} and adds any fds that arrived as SCM_RIGHTS to {@code fdsOut}
     * (received close-on-exec). Truncated control data is an error: the kernel closed fds we lost.
     */
    public static int receiveWithFds(int fd, byte[] buf, List<Integer> fdsOut) throws NativeException {
        Runtime rt = Holder.RUNTIME;
        Pointer payload = Memory.allocateDirect(rt, buf.length);
        int space = CMSG_HEADER + align8(4 * MAX_FDS);
        Pointer control = Memory.allocateDirect(rt, space, true);
        Pointer msg = message(rt, payload, buf.length, control, space);
        long n;
        do {
            n = libc().recvmsg(fd, msg, Linux.MSG_CMSG_CLOEXEC);
        } while (n < 0 && errno() == Linux.EINTR);
        Reference.reachabilityFence(control);
        if (n < 0) {
            throw failure("recvmsg");
        }
        collectFds(control, msg.getLong(40), fdsOut);
        if ((msg.getInt(48) & Linux.MSG_CTRUNC) != 0) {
            throw new NativeException("recvmsg", 0, "control data truncated (more than " + MAX_FDS + " fds?)");
        }
        payload.get(0, buf, 0, (int) n);
        return n == 0 ? -1 : (int) n;
    }

    private static void collectFds(Pointer control, long length, List<Integer> fdsOut) {
        long off = 0;
        while (off + CMSG_HEADER <= length) {
            long cmsgLen = control.getLong(off);
            if (cmsgLen < CMSG_HEADER) {
                return;
            }
            if (control.getInt(off + 8) == Linux.SOL_SOCKET && control.getInt(off + 12) == Linux.SCM_RIGHTS) {
                for (long p = off + CMSG_HEADER; p + 4 <= off + cmsgLen; p += 4) {
                    fdsOut.add(control.getInt(p));
                }
            }
            off += align8((int) cmsgLen);
        }
    }

    /** One block holds the msghdr and its single iovec, so nothing it points to can be freed early. */
    private static Pointer message(Runtime rt, Pointer payload, int payloadLen, Pointer control, int controlLen) {
        Pointer msg = Memory.allocateDirect(rt, MSGHDR_SIZE + IOVEC_SIZE, true);
        msg.putAddress(MSGHDR_SIZE, payload.address());
        msg.putLong(MSGHDR_SIZE + 8, payloadLen);
        msg.putAddress(16, msg.address() + MSGHDR_SIZE);
        msg.putLong(24, 1);
        msg.putAddress(32, control.address());
        msg.putLong(40, controlLen);
        return msg;
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }

    public static PeerCredentials peerCredentials(int fd) throws NativeException {
        byte[] ucred = new byte[12];
        int[] len = {ucred.length};
        if (libc().getsockopt(fd, Linux.SOL_SOCKET, Linux.SO_PEERCRED, ucred, len) < 0) {
            throw failure("getsockopt(SO_PEERCRED)");
        }
        ByteBuffer b = ByteBuffer.wrap(ucred).order(ByteOrder.nativeOrder());
        return new PeerCredentials(b.getInt(0), b.getInt(4), b.getInt(8));
    }

    /** Wakes any thread blocked on the socket (close alone would not) and ends both directions. */
    public static void shutdown(int fd) {
        libc().shutdown(fd, Linux.SHUT_RDWR);
    }

    public static void close(int fd) throws NativeException {
        if (libc().close(fd) < 0 && errno() != Linux.EINTR) {
            throw failure("close(" + fd + ")");
        }
    }

    /**
     * Points fds 1 and 2 (and any {@code extraFds}) at {@code path}, opened for appending: how a
     * log file is (re)opened so that everything writing to stdout and stderr, the JVM's own thread
     * dumps included, follows it.
     */
    public static void redirectStdoutAndStderr(String path, int... extraFds) throws NativeException {
        int fd = libc().open(path, Linux.O_WRONLY | Linux.O_CREAT | Linux.O_APPEND | Linux.O_CLOEXEC, 0644);
        if (fd < 0) {
            throw failure("open(" + path + ")");
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

    public static int dup(int fd) throws NativeException {
        int copy = libc().dup(fd);
        if (copy < 0) {
            throw failure("dup(" + fd + ")");
        }
        return copy;
    }

    public static void dup2(int fd, int target) throws NativeException {
        if (libc().dup2(fd, target) < 0) {
            throw failure("dup2(" + fd + ", " + target + ")");
        }
    }

    /** A user's ids, as getpwnam(3) and getgrouplist(3) give them: what --user resolves to. */
    public record Account(String name, int uid, int gid, int[] groups) {
    }

    /** Null if there is no such user. Reads the passwd entry (LP64: pw_uid at 16, pw_gid at 20). */
    public static Account lookupUser(String name) {
        Pointer pw = libc().getpwnam(name);
        if (pw == null) {
            return null;
        }
        int uid = pw.getInt(16);
        int gid = pw.getInt(20);
        return new Account(name, uid, gid, groupList(name, gid));
    }

    /** A group's id, or -1 if there is no such group (LP64: gr_gid at 16). */
    public static int lookupGroup(String name) {
        Pointer gr = libc().getgrnam(name);
        return gr == null ? -1 : gr.getInt(16);
    }

    /** The groups {@code user} belongs to, with {@code gid} first: what initgroups(3) would set. */
    public static int[] groupList(String user, int gid) {
        int[] n = {64};
        while (true) {
            int[] groups = new int[n[0]];
            int[] count = {groups.length};
            if (libc().getgrouplist(user, gid, groups, count) >= 0) {
                return Arrays.copyOf(groups, count[0]);
            }
            n[0] = Math.max(count[0], n[0] * 2);
        }
    }

    public static int uid() {
        return libc().getuid();
    }

    public static int effectiveUid() {
        return libc().geteuid();
    }

    /**
     * Becomes {@code uid}/{@code gid} with exactly {@code groups} for good: setgroups, setgid,
     * setuid, in that order (once setuid is done the others are no longer allowed). glibc applies
     * each to every thread of the process. Then checks: the ids took, and setuid(0) fails. Last,
     * PR_SET_DUMPABLE again, which the uid change turned off: without it the process could not read
     * its own /proc files (readiness detection reads them).
     */
    public static void dropPrivileges(int uid, int gid, int[] groups) throws NativeException {
        if (libc().setgroups(groups.length, groups) < 0) {
            throw failure("setgroups");
        }
        if (libc().setgid(gid) < 0) {
            throw failure("setgid(" + gid + ")");
        }
        if (libc().setuid(uid) < 0) {
            throw failure("setuid(" + uid + ")");
        }
        if (libc().setuid(0) == 0 && uid != 0) {
            throw new NativeException("setuid(0)", 0, "succeeded after the drop: privileges were not dropped");
        }
        if (libc().getuid() != uid || libc().geteuid() != uid || libc().getgid() != gid || libc().getegid() != gid) {
            throw new NativeException("getuid", 0, "ids after the drop are uid " + libc().getuid() + "/" + libc().geteuid()
                    + ", gid " + libc().getgid() + "/" + libc().getegid() + "; wanted " + uid + ", " + gid);
        }
        if (libc().prctl(Linux.PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
            throw failure("prctl(PR_SET_DUMPABLE)");
        }
    }

    /** Sends a signal; returns false if the process no longer exists. */
    public static boolean kill(long pid, int signal) throws NativeException {
        if (libc().kill((int) pid, signal) == 0) {
            return true;
        }
        if (errno() == Linux.ESRCH) {
            return false;
        }
        throw failure("kill(" + pid + ", " + signal + ")");
    }
}
