package io.prefork.supervisor.upgrade;

import io.prefork.unix.FdPassing;
import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.supervisor.Handoff;
import io.prefork.supervisor.IoReason;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.net.Listener;
import io.prefork.supervisor.net.Listeners;
import java.io.IOException;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The upgrade seen from the new supervisor: its link to the old one, which started it. Over it
 * come the listening sockets; back over it go READY (the old one then hands over and stops) or
 * FAILED (the old one serves on). The old side is {@link NewSupervisor} and {@link UpgradeSocket}.
 */
public final class OldSupervisor implements AutoCloseable {
    private final ControlSocket channel;
    private final Log log;
    private final long pid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);

    private OldSupervisor(ControlSocket channel, Log log) {
        this.channel = channel;
        this.log = log;
    }

    /** @param socket the upgrade socket's path, from {@code PREFORK_UPGRADE_SOCKET} */
    public static OldSupervisor connect(String socket, Log log) throws IOException {
        return new OldSupervisor(ControlSocket.connect(socket, FdPassing.INSTANCE), log);
    }

    /** The old supervisor's pid (our parent's), or -1 if unknown. */
    public long pid() {
        return pid;
    }

    /**
     * Receives the old supervisor's listening sockets, the very same ones: each slot's own
     * (SLOT_LISTENERS, reuseport mode), then the first of each bind (LISTENERS).
     */
    public Listeners takeListeners(int backlog, Listeners.Balance balance, int workers) throws IOException {
        SortedMap<Integer, List<Integer>> slots = new TreeMap<>();
        ControlMessage m;
        while ((m = channel.receive()) != null && m.type() == MessageType.SLOT_LISTENERS) {
            List<Integer> fds = channel.takeReceivedFds();
            try {
                slots.put(Integer.parseInt(m.arg(0)), fds);
            } catch (NumberFormatException | IOException e) {
                Listeners.closeFds(fds);
                slots.values().forEach(Listeners::closeFds);
                throw new IOException("upgrade: bad slot in " + m);
            }
        }
        if (m == null || m.type() != MessageType.LISTENERS) {
            slots.values().forEach(Listeners::closeFds);
            throw new IOException("upgrade: expected LISTENERS from the old supervisor, got " + m);
        }
        Listeners taken;
        try {
            taken = Listeners.takeOver(channel.takeReceivedFds(), slots, backlog, balance, workers, log);
        } catch (IOException e) {
            throw new IOException("upgrade: " + IoReason.of(e), e);
        }
        for (Listener l : taken.first()) {
            log.info("listening on " + l.address() + " (taken over from pid " + pid + ")");
        }
        taken.ownSockets().forEach((slot, own) -> log.info("listening on " + own.stream().map(Handoff::address)
                .collect(Collectors.joining(", ")) + ": slot " + slot + "'s own (taken over from pid " + pid + ")"));
        return taken;
    }

    /** Our first workers are READY: the old supervisor hands over and stops. Closes the link. */
    public void tellReady() {
        try {
            channel.send(ControlMessage.of(MessageType.READY));
        } catch (IOException e) {
            log.warn("upgrade: could not tell the old supervisor we are READY: " + e.getMessage());
        }
        channel.close();
    }

    /** We failed before READY: the old supervisor serves on. */
    public void tellFailed(String reason) {
        try {
            channel.send(ControlMessage.of(MessageType.FAILED, reason == null ? "unknown" : reason));
        } catch (IOException e) {
            // the old supervisor sees us exit anyway
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
