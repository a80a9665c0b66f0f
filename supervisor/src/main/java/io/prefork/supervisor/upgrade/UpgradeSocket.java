package io.prefork.supervisor.upgrade;

import io.prefork.unix.FdPassing;
import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.supervisor.Event;
import io.prefork.supervisor.Handoff;
import io.prefork.supervisor.Handover;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.net.ChildSocket;
import io.prefork.unix.PeerCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import jnr.unixsocket.UnixSocketChannel;

/**
 * The old supervisor's end of an upgrade (a {@link ChildSocket}) that exactly one peer may use,
 * the new supervisor this one started. Its reader turns the connection and each line into
 * {@link Event}s; the loop answers through {@link #sendListeners}.
 */
public final class UpgradeSocket implements AutoCloseable {
    private final Consumer<Event> sink;
    private final Log log;
    private ChildSocket socket;
    private volatile long expectedPid = -1;
    private volatile ControlSocket peer;
    /** Only the acceptor thread reads and writes it. */
    private boolean admitted;
    private volatile boolean closed;

    private UpgradeSocket(Consumer<Event> sink, Log log) {
        this.sink = sink;
        this.log = log;
    }

    static UpgradeSocket start(Consumer<Event> sink, Log log) throws IOException {
        UpgradeSocket upgrade = new UpgradeSocket(sink, log);
        upgrade.socket = ChildSocket.open("upgrade", "upgrade.sock", 4, -1, log, new ChildSocket.Handler() {
            @Override
            public boolean admit(PeerCredentials peer) {
                return upgrade.admit(peer);
            }

            @Override
            public void serve(UnixSocketChannel connection, PeerCredentials peer) {
                upgrade.readFrom(new ControlSocket(connection, FdPassing.INSTANCE));
            }

            @Override
            public void acceptFailed(IOException e) {
                sink.accept(new Event.UpgradeEnded("upgrade socket failed: " + e.getMessage()));
            }
        });
        return upgrade;
    }

    Path socketPath() {
        return socket.path();
    }

    /** The pid of the new supervisor, once started: only it may connect. */
    void expect(long pid) {
        expectedPid = pid;
    }

    /** Acceptor thread: the new supervisor, once; anyone else is refused. */
    private boolean admit(PeerCredentials credentials) {
        if (credentials.pid() != expectedPid || admitted) {
            log.warn("upgrade: refused a connection from pid " + credentials.pid() + " (waiting for pid " + expectedPid + ")");
            return false;
        }
        admitted = true;
        return true;
    }

    /** Reader thread: the new supervisor's messages, until it hangs up. */
    private void readFrom(ControlSocket socket) {
        peer = socket;
        sink.accept(new Event.UpgradeConnected());
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

    @Override
    public void close() {
        closed = true;
        ControlSocket connected = peer;
        if (connected != null) {
            connected.shutdown();
        }
        socket.close();
    }
}
