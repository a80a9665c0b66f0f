package io.prefork.unix;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.charset.StandardCharsets;
import jnr.unixsocket.Credentials;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * Every Unix-domain socket prefork opens, made with jnr-unixsocket, around its two traps:
 * <ul>
 *   <li>it creates and accepts sockets without SOCK_CLOEXEC, so each one gets FD_CLOEXEC here,
 *       before anyone else sees it;</li>
 *   <li>it gives the kernel an address length counted in Java chars, not UTF-8 bytes, so a
 *       non-ASCII path would bind or connect to a truncated name: such a path is refused.</li>
 * </ul>
 * Failures keep the one convention: a {@link NativeException} naming the call and its strerror text.
 */
public final class UnixSockets {
    private UnixSockets() {
    }

    /**
     * Loads jnr-unixsocket and makes each call it binds once (listen, connect, accept, SO_PEERCRED,
     * close) on a throwaway abstract name: its first use costs tens of milliseconds of class loading
     * and binding, which a caller can spend on another thread before it needs a socket.
     */
    public static void warmUp() throws IOException {
        String name = "@prefork-warm-up-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (UnixServerSocketChannel server = listen(name, 1);
             UnixSocketChannel client = connect(name);
             UnixSocketChannel accepted = accept(server)) {
            peer(accepted);
        }
    }

    /**
     * The reason {@code path} cannot be a Unix socket address, or null if it can. A path, or '@'
     * and an abstract name.
     */
    public static String invalidPath(String path) {
        if (path.isEmpty() || path.equals("@")) {
            return "unix socket path is empty";
        }
        if (!StandardCharsets.US_ASCII.newEncoder().canEncode(path)) {
            return "unix socket path must be ASCII (jnr-unixsocket miscounts a non-ASCII path's length): " + path;
        }
        int bytes = path.startsWith("@") ? path.length() : path.length() + 1;
        if (bytes > SocketAddresses.SUN_PATH_MAX) {
            return "unix socket path is too long (" + path.length() + " bytes, the limit is "
                    + (SocketAddresses.SUN_PATH_MAX - 1) + "): " + path;
        }
        return null;
    }

    /** jnr-unixsocket's address: an abstract name ('@' here) starts with a NUL byte there. */
    static UnixSocketAddress address(String path) {
        String invalid = invalidPath(path);
        if (invalid != null) {
            throw new IllegalArgumentException(invalid);
        }
        return new UnixSocketAddress(path.startsWith("@") ? "\0" + path.substring(1) : path);
    }

    /** A listening socket at {@code path} (a file, or '@' and an abstract name), close-on-exec. */
    public static UnixServerSocketChannel listen(String path, int backlog) throws IOException {
        UnixSocketAddress address = address(path);
        UnixServerSocketChannel server = UnixServerSocketChannel.open();
        return closeOnExecThen(server, server.getFD(), "bind(unix:" + path + ")", () -> server.socket().bind(address, backlog));
    }

    /** A stream connection to {@code path}, close-on-exec, blocking. */
    public static UnixSocketChannel connect(String path) throws IOException {
        UnixSocketAddress address = address(path);
        UnixSocketChannel channel = UnixSocketChannel.open();
        return closeOnExecThen(channel, channel.getFD(), "connect(unix:" + path + ")", () -> channel.connect(address));
    }

    private interface SocketCall {
        void run() throws IOException;
    }

    /**
     * Sets FD_CLOEXEC on a socket jnr-unixsocket just made, then makes {@code call} on it (its failure
     * becomes a NativeException naming {@code name}); closes the socket if either fails.
     */
    private static <C extends java.nio.channels.Channel> C closeOnExecThen(C channel, int fd, String name, SocketCall call)
            throws IOException {
        try {
            Fds.setCloseOnExec(fd);
            try {
                call.run();
            } catch (NativeException e) {
                throw e;
            } catch (IOException e) {
                throw Native.failure(name);
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * The next connection, close-on-exec. Another thread wakes this one with {@link Fds#shutdown}
     * on the listening fd, which ends the wait with an IOException.
     */
    public static UnixSocketChannel accept(UnixServerSocketChannel server) throws IOException {
        UnixSocketChannel client;
        try {
            client = server.accept();
        } catch (NotYetBoundException | ClosedChannelException e) {
            throw new NativeException("accept", Linux.EINVAL, "the socket was shut down or closed");
        } catch (IOException e) {
            throw Native.failure("accept");
        }
        return closeOnExecThen(client, client.getFD(), "accept", () -> { });
    }

    /** Who is at the other end (SO_PEERCRED): as the peer was when it connected. */
    public static PeerCredentials peer(UnixSocketChannel channel) throws NativeException {
        Credentials c;
        try {
            c = channel.getOption(UnixSocketOptions.SO_PEERCRED);
        } catch (IOException | UnsupportedOperationException e) {
            throw Native.failure("getsockopt(SO_PEERCRED)");
        }
        return new PeerCredentials(c.getPid(), c.getUid(), c.getGid());
    }

    /**
     * An unbound datagram socket, close-on-exec, connected to {@code path}: how a message reaches
     * systemd's NOTIFY_SOCKET. jnr-unixsocket's own connect() on a datagram channel only records the
     * address, and a message with fds (sendmsg) needs a connected socket, so connect(2) is the
     * minimal binding's.
     */
    public static UnixDatagramChannel connectedDatagram(String path) throws IOException {
        byte[] sockaddr = SocketAddresses.unix(path);
        UnixDatagramChannel channel = UnixDatagramChannel.open();
        return closeOnExecThen(channel, channel.getFD(), "connect(unix:" + path + ")", () -> {
            if (Native.libc().connect(channel.getFD(), sockaddr, sockaddr.length) < 0) {
                throw Native.failure("connect(unix:" + path + ")");
            }
        });
    }
}
