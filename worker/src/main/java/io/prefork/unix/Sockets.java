package io.prefork.unix;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * TCP listeners, made with prefork's minimal binding (jnr-unixsocket does only Unix sockets, and
 * jnr-posix has no socket calls), and what the supervisor asks of any listening socket: its family,
 * address, SO_REUSEPORT and accept queue. Unix sockets are made with jnr-unixsocket ({@link UnixSockets}).
 */
public final class Sockets {
    private Sockets() {
    }

    /** A TCP socket, close-on-exec, for AF_INET or AF_INET6. */
    public static int tcpSocket(int family) throws NativeException {
        if (family != Linux.AF_INET && family != Linux.AF_INET6) {
            throw new IllegalArgumentException("a TCP socket is AF_INET or AF_INET6, not family " + family
                    + " (Unix sockets come from UnixSockets)");
        }
        int fd = Native.libc().socket(family, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Native.failure("socket");
        }
        return fd;
    }

    public static void setIntOption(int fd, int level, int name, int value, String what) throws NativeException {
        if (Native.libc().setsockopt(fd, level, name, new int[] {value}, 4) < 0) {
            throw Native.failure("setsockopt(" + what + ")");
        }
    }

    private static int intOption(int fd, int level, int name, String what) throws NativeException {
        byte[] value = new byte[4];
        int[] len = {4};
        if (Native.libc().getsockopt(fd, level, name, value, len) < 0) {
            throw Native.failure("getsockopt(" + what + ")");
        }
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
    }

    public static void bind(int fd, InetSocketAddress address, String what) throws NativeException {
        byte[] sa = SocketAddresses.inet(address);
        if (Native.libc().bind(fd, sa, sa.length) < 0) {
            throw Native.failure("bind(" + what + ")");
        }
    }

    public static void listen(int fd, int backlog, String what) throws NativeException {
        if (Native.libc().listen(fd, backlog) < 0) {
            throw Native.failure("listen(" + what + ")");
        }
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
        if (Native.libc().getsockopt(fd, Linux.IPPROTO_TCP, Linux.TCP_INFO, info, len) < 0) {
            throw Native.failure("getsockopt(TCP_INFO)");
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

    /** The address a TCP socket is bound to: how a port-0 bind learns its port. */
    public static InetSocketAddress localInetAddress(int fd) throws NativeException {
        return SocketAddresses.readInet(localAddress(fd));
    }

    /** getsockname: the sockaddr, exactly as long as the kernel says (an abstract name's length matters). */
    private static byte[] localAddress(int fd) throws NativeException {
        byte[] sa = new byte[128];
        int[] len = {sa.length};
        if (Native.libc().getsockname(fd, sa, len) < 0) {
            throw Native.failure("getsockname");
        }
        return Arrays.copyOf(sa, Math.min(len[0], sa.length));
    }
}
