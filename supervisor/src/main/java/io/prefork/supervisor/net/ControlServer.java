package io.prefork.supervisor.net;

import io.prefork.unix.FdPassing;
import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.supervisor.ControlAdmission;
import io.prefork.supervisor.Event;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.WorkerConnection;
import io.prefork.unix.PeerCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * The workers' control socket (a {@link ChildSocket}): only a worker the loop said it started may
 * connect, once. Each connection's reader waits for HELLO (with a deadline) and turns every line
 * into an {@link Event}. Nothing here decides anything: the supervisor loop does.
 */
public final class ControlServer implements AutoCloseable {
    private static final Duration HELLO_DEADLINE = Duration.ofSeconds(10);
    /** More messages than this in a second from one worker is a flood: a healthy one sends a few. */
    static final int FLOOD_PER_SECOND = 1000;

    private final Consumer<Event> sink;
    private final ControlAdmission admission;
    private final Log log;
    private ChildSocket socket;
    private long refused;

    private ControlServer(Consumer<Event> sink, ControlAdmission admission, Log log) {
        this.sink = sink;
        this.admission = admission;
        this.log = log;
    }

    /** @param workerGroup the gid workers run as under --user, whose members may reach the socket; -1 if none */
    public static ControlServer start(Consumer<Event> sink, ControlAdmission admission, int workerGroup, Log log)
            throws IOException {
        ControlServer server = new ControlServer(sink, admission, log);
        server.socket = ChildSocket.open("control", "control.sock", 128, workerGroup, log, new ChildSocket.Handler() {
            @Override
            public boolean admit(PeerCredentials peer) throws InterruptedException {
                return server.admit(peer);
            }

            @Override
            public void serve(UnixSocketChannel connection, PeerCredentials peer) {
                server.serve(connection, peer);
            }

            @Override
            public void acceptFailed(IOException e) {
                log.error("control: accept failed, no more workers can connect: " + e.getMessage());
            }
        });
        return server;
    }

    public Path socketPath() {
        return socket.path();
    }

    /** True if the peer is a worker we started that has not connected yet; refusals are logged. */
    private boolean admit(PeerCredentials peer) throws InterruptedException {
        if (admission.claim(peer.pid())) {
            return true;
        }
        // Logged, but not a line per attempt forever: a flood must not fill the disk.
        refused++;
        if (refused <= 10 || refused % 1000 == 0) {
            log.warn("control: refused a connection from pid " + peer.pid() + " (uid " + peer.uid()
                    + "): not a worker this supervisor started, or one already connected"
                    + (refused > 10 ? " (" + refused + " refused so far)" : ""));
        }
        return false;
    }

    private void serve(UnixSocketChannel client, PeerCredentials peer) {
        ControlSocket socket = new ControlSocket(client, FdPassing.INSTANCE);
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
            long windowStart = System.nanoTime();
            int inWindow = 0;
            boolean warned = false;
            while ((message = socket.receive()) != null) {
                long now = System.nanoTime();
                if (now - windowStart >= 1_000_000_000L) {
                    windowStart = now;
                    inWindow = 0;
                } else if (++inWindow > FLOOD_PER_SECOND) {
                    if (!warned) {
                        warned = true;
                        log.warn("control: pid " + peer.pid() + " sends more than " + FLOOD_PER_SECOND + " messages a second;"
                                + " reading it no faster than that (the rest wait in its socket, and its writes block)");
                    }
                    Thread.sleep((windowStart + 1_000_000_000L - now) / 1_000_000 + 1);
                    windowStart = System.nanoTime();
                    inWindow = 0;
                }
                sink.accept(new Event.Message(connection, message));
            }
        } catch (IOException e) {
            if (connection == null) {
                log.warn("control: dropped a connection before HELLO: " + e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            socket.close();
            if (connection != null) {
                sink.accept(new Event.ConnectionClosed(connection));
            }
        }
    }

    @Override
    public void close() {
        socket.close();
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
