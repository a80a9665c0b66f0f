package io.prefork.supervisor;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every listening socket the supervisor holds, and which of them each worker slot gets.
 *
 * <p>{@code shared}: one socket per {@code -b}, handed to every worker; idle workers compete in
 * accept(), so a busy worker takes no new connections. {@code reuseport}: for TCP binds, one
 * SO_REUSEPORT socket per slot on the same port, and the kernel spreads connections evenly by hash,
 * busy or not. The supervisor keeps every slot's socket open, so when a worker dies the connections
 * queued on its socket wait for the slot's next worker instead of being reset. Unix binds are
 * always shared. Loop thread only, after start-up.
 */
final class Listeners implements AutoCloseable, Supervisor.ListenerSource {
    enum Balance { SHARED, REUSEPORT }

    private final List<BindAddress> binds;
    private final int backlog;
    private final Balance balance;
    /** The first socket of each bind: the shared one, or slot 1's; it fixes the port for the others. */
    private final List<Listener> first = new ArrayList<>();
    private final Map<Integer, List<Listener>> bySlot = new HashMap<>();

    private Listeners(List<BindAddress> binds, int backlog, Balance balance) {
        this.binds = List.copyOf(binds);
        this.backlog = backlog;
        this.balance = balance;
    }

    /** Binds every address once (as slot 1's socket in reuseport mode). */
    static Listeners open(List<BindAddress> binds, int backlog, Balance balance) throws IOException {
        Listeners listeners = new Listeners(binds, backlog, balance);
        try {
            for (BindAddress bind : binds) {
                listeners.first.add(listeners.bind(bind, bind.inet() == null ? 0 : bind.inet().getPort()));
            }
        } catch (IOException e) {
            listeners.close();
            throw e;
        }
        return listeners;
    }

    /**
     * Sockets passed down by systemd (socket activation, or its fd store after a restart). They are
     * shared by all workers: reuseport would need more sockets on the port than systemd gave us.
     */
    static Listeners adopt(List<Integer> fds, int backlog) throws IOException {
        List<Listener> adopted = new ArrayList<>();
        for (int fd : fds) {
            try {
                adopted.add(Listener.adopt(fd));
            } catch (IOException e) {
                adopted.forEach(Listener::closeQuietly);
                throw new IOException(e.getMessage().startsWith("fd ") ? e.getMessage() : "fd " + fd + ": " + Main.reason(e), e);
            }
        }
        Listeners listeners = new Listeners(adopted.stream().map(Listener::bind).toList(), backlog, Balance.SHARED);
        listeners.first.addAll(adopted);
        return listeners;
    }

    /**
     * The accept queue of every TCP socket held now, for /metrics: the shared ones (or slot 1's),
     * then each slot's own in reuseport mode. Unix sockets have no TCP_INFO and are left out.
     */
    @Override
    public List<Metrics.ListenQueue> queues() {
        List<Metrics.ListenQueue> queues = new ArrayList<>();
        String firstSlot = balance == Balance.REUSEPORT ? "1" : "all";
        first.forEach(l -> addQueue(queues, l, firstSlot));
        bySlot.forEach((slot, own) -> own.stream().filter(java.util.Objects::nonNull)
                .forEach(l -> addQueue(queues, l, Integer.toString(slot))));
        return queues;
    }

    private static void addQueue(List<Metrics.ListenQueue> queues, Listener l, String slot) {
        if (l.bind().isUnix()) {
            return;
        }
        try {
            int[] q = io.prefork.unix.Posix.listenQueue(l.fd());
            queues.add(new Metrics.ListenQueue(l.address(), slot, q[0], q[1]));
        } catch (IOException e) {
            // closed between the listing and the call: it has no queue to report
        }
    }

    List<Listener> first() {
        return first;
    }

    private boolean perSlot(BindAddress bind) {
        return balance == Balance.REUSEPORT && !bind.isUnix();
    }

    private Listener bind(BindAddress bind, int port) throws IOException {
        try {
            if (!perSlot(bind)) {
                return Listener.open(bind, backlog, false);
            }
            BindAddress atPort = new BindAddress(new InetSocketAddress(bind.inet().getAddress(), port), null);
            return Listener.open(atPort, backlog, true);
        } catch (IOException e) {
            boolean privileged = !bind.isUnix() && port > 0 && port < 1024 && Main.reason(e).equals("Permission denied");
            throw new IOException("cannot listen on " + bind + ": " + Main.reason(e)
                    + (privileged ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" : ""), e);
        }
    }

    /** The sockets slot {@code slotId} gets, in -b order; a new slot's reuseport sockets are bound now. */
    @Override
    public List<Supervisor.Handoff> forSlot(int slotId) throws IOException {
        List<Supervisor.Handoff> handoffs = new ArrayList<>();
        for (int i = 0; i < binds.size(); i++) {
            BindAddress bind = binds.get(i);
            Listener listener = first.get(i);
            if (perSlot(bind) && slotId != 1) {
                List<Listener> own = bySlot.computeIfAbsent(slotId, id -> new ArrayList<>());
                while (own.size() <= i) {
                    own.add(null);
                }
                if (own.get(i) == null) {
                    own.set(i, bind(bind, ((InetSocketAddress) first.get(i).socketAddress()).getPort()));
                }
                listener = own.get(i);
            }
            handoffs.add(new Supervisor.Handoff(listener.address(), listener.fd()));
        }
        return handoffs;
    }

    /**
     * A slot went away (scaled down). Its reuseport sockets close: connections still queued on them
     * are reset, unless net.ipv4.tcp_migrate_req=1 moves them to the other sockets of the port.
     */
    @Override
    public void slotRemoved(int slotId) {
        List<Listener> own = bySlot.remove(slotId);
        if (own != null) {
            own.forEach(Listener::closeQuietly);
        }
    }

    /** An upgrade handed these sockets on: their files must outlive this process. */
    void keepPaths() {
        first.forEach(Listener::keepPathOnClose);
        bySlot.values().forEach(own -> own.stream().filter(java.util.Objects::nonNull).forEach(Listener::keepPathOnClose));
    }

    @Override
    public void close() {
        bySlot.values().forEach(list -> list.forEach(Listener::closeQuietly));
        bySlot.clear();
        first.forEach(Listener::closeQuietly);
    }
}
