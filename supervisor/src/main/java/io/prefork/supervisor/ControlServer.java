package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.posix.PosixFdTransport;
import io.prefork.unix.Fds;
import io.prefork.unix.NativeException;
import io.prefork.unix.PeerCredentials;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * The workers' control socket, in a fresh 0700 directory. An acceptor thread takes connections; one
 * reader thread per connection waits for HELLO (with a deadline) and turns every line into an
 * {@link Event}. Nothing here decides anything: the supervisor loop does.
 */
public final class ControlServer implements AutoCloseable {
    private static final Duration HELLO_DEADLINE = Duration.ofSeconds(10);

    private final UnixSocketFiles.PrivateSocket socket;
    private final UnixServerSocketChannel server;
    private final Consumer<Event> sink;
    private final ControlAdmission admission;
    private final Log log;
    private volatile boolean closed;
    private long refused;

    private ControlServer(UnixSocketFiles.PrivateSocket socket, Consumer<Event> sink, ControlAdmission admission, Log log) {
        this.socket = socket;
        this.server = socket.channel();
        this.sink = sink;
        this.admission = admission;
        this.log = log;
    }

    static ControlServer start(Consumer<Event> sink, ControlAdmission admission, Log log) throws IOException {
        ControlServer server = new ControlServer(UnixSocketFiles.bindInPrivateDirectory("prefork-", "control.sock", 128),
                sink, admission, log);
        Daemons.start("prefork-control-accept", server::acceptLoop);
        return server;
    }

    public Path socketPath() {
        return socket.path();
    }

    /** Owns the listening socket: close() only wakes it, and it closes the socket on its way out. */
    private void acceptLoop() {
        while (true) {
            UnixSocketChannel client;
            try {
                client = UnixSockets.accept(server);
            } catch (IOException e) {
                if (!closed) {
                    log.error("control: accept failed, no more workers can connect: " + e.getMessage());
                }
                closeQuietly(server);
                return;
            }
            PeerCredentials peer = admit(client);
            if (peer == null) {
                closeQuietly(client);
                continue;
            }
            Daemons.start("prefork-control-" + client.getFD(), () -> serve(client, peer));
        }
    }

    /** The peer, if it is a worker we started that has not connected yet; null (and logged) if not. */
    private PeerCredentials admit(UnixSocketChannel client) {
        PeerCredentials peer;
        try {
            peer = UnixSockets.peer(client);
        } catch (NativeException e) {
            log.warn("control: refused a connection: " + e.getMessage());
            return null;
        }
        try {
            if (admission.claim(peer.pid())) {
                return peer;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        // Logged, but not a line per attempt forever: a flood must not fill the disk.
        refused++;
        if (refused <= 10 || refused % 1000 == 0) {
            log.warn("control: refused a connection from pid " + peer.pid() + " (uid " + peer.uid()
                    + "): not a worker this supervisor started, or one already connected"
                    + (refused > 10 ? " (" + refused + " refused so far)" : ""));
        }
        return null;
    }

    private void serve(UnixSocketChannel client, PeerCredentials peer) {
        ControlSocket socket = new ControlSocket(client, PosixFdTransport.SUPERVISOR);
        Connection connection = null;
        try {
            client.setOption(UnixSocketOptions.SO_RCVTIMEO, (int) HELLO_DEADLINE.toMillis());
            ControlMessage hello = socket.receive();
            if (hello == null || hello.type() != MessageType.HELLO || hello.args().size() != 1) {
                log.warn("control: pid " + peer.pid() + " (uid " + peer.uid() + ") did not start with HELLO; closing");
                return;
            }
            client.setOption(UnixSocketOptions.SO_RCVTIMEO, 0);
            connection = new Connection(socket, peer);
            sink.accept(new Event.Hello(connection, hello.args().get(0)));
            ControlMessage message;
            while ((message = socket.receive()) != null) {
                sink.accept(new Event.Message(connection, message));
            }
        } catch (IOException e) {
            if (connection == null) {
                log.warn("control: dropped a connection before HELLO: " + e.getMessage());
            }
        } finally {
            socket.close();
            if (connection != null) {
                sink.accept(new Event.ConnectionClosed(connection));
            }
        }
    }

    private static void closeQuietly(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // at this point there is nothing left to do with it
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        Fds.shutdown(server.getFD());
        socket.removeFiles();
    }

    /** An accepted connection; its reader thread owns the fd, so close() here only shuts it down. */
    private static final class Connection implements WorkerConnection {
        private final ControlSocket socket;
        private final PeerCredentials peer;

        Connection(ControlSocket socket, PeerCredentials peer) {
            this.socket = socket;
            this.peer = peer;
        }

        @Override
        public long peerPid() {
            return peer.pid();
        }

        @Override
        public int peerUid() {
            return peer.uid();
        }

        @Override
        public void send(ControlMessage message) throws IOException {
            socket.send(message);
        }

        @Override
        public void sendWithFds(ControlMessage message, int[] fds) throws IOException {
            socket.sendWithFds(message, fds);
        }

        @Override
        public void close() {
            socket.shutdown();
        }
    }
}
