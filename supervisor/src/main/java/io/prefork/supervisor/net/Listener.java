package io.prefork.supervisor.net;

import io.prefork.unix.Fds;
import io.prefork.unix.Linux;
import io.prefork.unix.Sockets;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A listening socket the supervisor binds and holds for its whole life. Workers get copies of the fd;
 * because this one stays open, connections that arrive while no worker is up wait in its backlog.
 */
public final class Listener implements AutoCloseable {
    private final BindAddress bind;
    private final int fd;
    private final String address;
    /** Unlink the socket file at close: only for a path we bound ourselves and did not hand to systemd. */
    private boolean unlinkOnClose;

    private Listener(BindAddress bind, int fd, String address, boolean unlinkOnClose) {
        this.bind = bind;
        this.fd = fd;
        this.address = address;
        this.unlinkOnClose = unlinkOnClose;
    }

    /**
     * A listening socket someone else bound and passed down (systemd's LISTEN_FDS): used as it is,
     * never rebound, and its file (for a Unix path) belongs to whoever made it.
     */
    static Listener adopt(int fd) throws IOException {
        if (!Sockets.isListeningStream(fd)) {
            throw new IOException("fd " + fd + " is not a listening stream socket");
        }
        int family = Sockets.family(fd);
        if (family == Linux.AF_UNIX) {
            String path = Sockets.localUnixPath(fd);
            return new Listener(new BindAddress(null, path), fd, "unix:" + path, false);
        }
        if (family != Linux.AF_INET && family != Linux.AF_INET6) {
            throw new IOException("fd " + fd + " is a socket of family " + family + ", not TCP or Unix");
        }
        java.net.InetSocketAddress inet = Sockets.localInetAddress(fd);
        return new Listener(new BindAddress(inet, null), fd, BindAddress.format(inet), false);
    }

    /** The socket now also lives in systemd's fd store, so its path must outlive this process. */
    public void keepPathOnClose() {
        unlinkOnClose = false;
    }

    /** What this socket is: as bound from -b, or as read from a socket passed down (a port, a path). */
    public BindAddress bind() {
        return bind;
    }

    public int fd() {
        return fd;
    }

    /** The real address: {@code 127.0.0.1:41234} after a port-0 bind, or {@code unix:/path}. */
    public String address() {
        return address;
    }

    /** With {@code reusePort}, SO_REUSEPORT: several sockets on one port, the kernel spreads connections. */
    public static Listener open(BindAddress bind, int backlog, boolean reusePort) throws IOException {
        if (bind.isUnix() && !bind.isAbstract()) {
            UnixSocketFiles.removeStale(Path.of(bind.unixPath()));
        }
        if (bind.isUnix()) {
            // jnr-unixsocket makes it; the listener keeps only its fd (the channel object holds
            // nothing else, and frees nothing when collected).
            int fd = UnixSockets.listen(bind.unixPath(), backlog).getFD();
            return new Listener(bind, fd, bind.toString(), !bind.isAbstract());
        }
        int family = bind.inet().getAddress() instanceof java.net.Inet6Address ? Linux.AF_INET6 : Linux.AF_INET;
        int fd = Sockets.tcpSocket(family);
        try {
            String what = bind.toString();
            Sockets.setIntOption(fd, Linux.SOL_SOCKET, Linux.SO_REUSEADDR, 1, "SO_REUSEADDR");
            if (reusePort) {
                Sockets.setIntOption(fd, Linux.SOL_SOCKET, Linux.SO_REUSEPORT, 1, "SO_REUSEPORT");
            }
            if (family == Linux.AF_INET6) {
                Sockets.setIntOption(fd, Linux.IPPROTO_IPV6, Linux.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
            }
            Sockets.bind(fd, bind.inet(), what);
            Sockets.listen(fd, backlog, what);
            return new Listener(bind, fd, BindAddress.format(Sockets.localInetAddress(fd)), false);
        } catch (IOException | RuntimeException e) {
            Fds.close(fd);
            throw e;
        }
    }

    /** The bound TCP address, port included; null for a Unix socket. */
    public java.net.SocketAddress socketAddress() throws IOException {
        return bind.isUnix() ? null : Sockets.localInetAddress(fd);
    }

    void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            // closing at exit or on a scale-down: nothing left to do with it
        }
    }

    @Override
    public void close() throws IOException {
        Fds.close(fd);
        if (unlinkOnClose) {
            Files.deleteIfExists(Path.of(bind.unixPath()));
        }
    }

    @Override
    public String toString() {
        return address;
    }
}
