package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.posix.PosixFdTransport;
import io.prefork.unix.Fds;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;

/**
 * The old supervisor's end of an upgrade: a Unix socket in a fresh 0700 directory that exactly one
 * peer may use, the new supervisor this one started (checked by SO_PEERCRED pid). Its thread turns
 * the connection and each line into {@link Event}s; the loop answers through {@link #send}.
 */
final class UpgradeServer implements AutoCloseable {
    private final UnixSocketFiles.PrivateSocket socket;
    private final UnixServerSocketChannel server;
    private final Consumer<Event> sink;
    private final Log log;
    private volatile long expectedPid = -1;
    private volatile ControlSocket peer;
    private volatile boolean closed;

    private UpgradeServer(UnixSocketFiles.PrivateSocket socket, Consumer<Event> sink, Log log) {
        this.socket = socket;
        this.server = socket.channel();
        this.sink = sink;
        this.log = log;
    }

    static UpgradeServer start(Consumer<Event> sink, Log log) throws IOException {
        UpgradeServer server = new UpgradeServer(UnixSocketFiles.bindInPrivateDirectory("prefork-upgrade-",
                "upgrade.sock", 4), sink, log);
        Daemons.start("prefork-upgrade", server::serve);
        return server;
    }

    Path socketPath() {
        return socket.path();
    }

    /** The pid of the new supervisor, once started: only it may connect. */
    void expect(long pid) {
        expectedPid = pid;
    }

    /** Accepts the new supervisor (refusing anyone else), then reads its messages until it hangs up. */
    private void serve() {
        try {
            while (true) {
                UnixSocketChannel client = UnixSockets.accept(server);
                long pid = UnixSockets.peer(client).pid();
                if (pid != expectedPid || peer != null) {
                    log.warn("upgrade: refused a connection from pid " + pid + " (waiting for pid " + expectedPid + ")");
                    client.close();
                    continue;
                }
                ControlSocket connected = new ControlSocket(client, PosixFdTransport.SUPERVISOR);
                peer = connected;
                sink.accept(new Event.UpgradeConnected());
                readFrom(connected);
                return;
            }
        } catch (IOException e) {
            if (!closed) {
                sink.accept(new Event.UpgradeEnded("upgrade socket failed: " + e.getMessage()));
            }
        } finally {
            closeQuietly();
        }
    }

    private void readFrom(ControlSocket socket) {
        String end = "the new supervisor hung up before it was READY";
        try {
            ControlMessage m;
            while ((m = socket.receive()) != null) {
                sink.accept(new Event.UpgradeMessage(m));
            }
        } catch (IOException e) {
            end = "the upgrade connection broke: " + e.getMessage();
        } finally {
            socket.close();
            if (!closed) {
                sink.accept(new Event.UpgradeEnded(end));
            }
        }
    }

    /**
     * Loop thread: hands the listening sockets over, each slot's own first (one message per slot,
     * as one message carries at most FdTransport.MAX_FDS), then LISTENERS, which ends the handoff.
     */
    void sendListeners(Handover.Sockets sockets) throws IOException {
        ControlSocket connected = peer;
        if (connected == null) {
            throw new IOException("the new supervisor is not connected");
        }
        for (Map.Entry<Integer, List<Handoff>> slot : sockets.slots().entrySet()) {
            List<String> args = new ArrayList<>();
            args.add(Integer.toString(slot.getKey()));
            slot.getValue().forEach(h -> args.add(h.address()));
            connected.sendWithFds(new ControlMessage(MessageType.SLOT_LISTENERS, args), fds(slot.getValue()));
        }
        connected.sendWithFds(new ControlMessage(MessageType.LISTENERS,
                sockets.first().stream().map(Handoff::address).toList()), fds(sockets.first()));
    }

    private static int[] fds(List<Handoff> handoffs) {
        return handoffs.stream().mapToInt(Handoff::fd).toArray();
    }

    private void closeQuietly() {
        try {
            server.close();
        } catch (IOException e) {
            // closing at the end of the upgrade: nothing left to do with it
        }
    }

    @Override
    public void close() {
        closed = true;
        Fds.shutdown(server.getFD());
        ControlSocket connected = peer;
        if (connected != null) {
            connected.shutdown();
        }
        socket.removeFiles();
    }
}
