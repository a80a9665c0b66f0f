package io.prefork.supervisor.net;

import io.prefork.supervisor.Handoff;
import io.prefork.supervisor.IoReason;
import io.prefork.supervisor.ListenerSource;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.Metrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

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
public final class Listeners implements AutoCloseable, ListenerSource {
    public enum Balance { SHARED, REUSEPORT }

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
    public static Listeners open(List<BindAddress> binds, int backlog, Balance balance) throws IOException {
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
    public static Listeners adopt(List<Integer> fds, int backlog) throws IOException {
        return adopt(adoptEach(fds), backlog, Balance.SHARED);
    }

    private static Listeners adopt(List<Listener> adopted, int backlog, Balance balance) {
        Listeners listeners = new Listeners(adopted.stream().map(Listener::bind).toList(), backlog, balance);
        listeners.first.addAll(adopted);
        return listeners;
    }

    /** All or nothing: on a bad fd, every one of {@code fds} is closed. */
    private static List<Listener> adoptEach(List<Integer> fds) throws IOException {
        List<Listener> adopted = new ArrayList<>();
        for (int fd : fds) {
            try {
                adopted.add(Listener.adopt(fd));
            } catch (IOException e) {
                closeFds(fds);
                throw new IOException(e.getMessage().startsWith("fd ") ? e.getMessage() : "fd " + fd + ": " + IoReason.of(e), e);
            }
        }
        return adopted;
    }

    /**
     * The sockets an old supervisor handed over in an upgrade: {@code first}, and each other slot's
     * own. With --balance reuseport, and sockets bound for it, every slot gets its very sockets
     * back, so the connections the kernel hashed to them are served. A slot past {@code workers}
     * keeps none: its sockets close once the old supervisor's workers let go, as in a scale-down.
     * Otherwise the workers share {@code first}.
     */
    public static Listeners takeOver(List<Integer> firstFds, SortedMap<Integer, List<Integer>> slotFds, int backlog,
            Balance wanted, int workers, Log log) throws IOException {
        List<Listener> first;
        try {
            first = adoptEach(firstFds);
        } catch (IOException e) {
            slotFds.values().forEach(Listeners::closeFds);
            throw e;
        }
        boolean reuseport = wanted == Balance.REUSEPORT && first.stream().allMatch(Listeners::boundForReuseport);
        if (wanted == Balance.REUSEPORT && !reuseport) {
            log.warn("--balance reuseport: the sockets taken over were not bound for it; the workers share them");
        }
        Listeners listeners = adopt(first, backlog, reuseport ? Balance.REUSEPORT : Balance.SHARED);
        for (Map.Entry<Integer, List<Integer>> slot : slotFds.entrySet()) {
            String refused = !reuseport ? "this supervisor does not balance by reuseport"
                    : slot.getKey() < 2 || slot.getKey() > workers ? "no such slot here (-w " + workers + ")" : null;
            if (refused != null) {
                closeFds(slot.getValue());
            } else {
                refused = listeners.adoptSlot(slot.getKey(), slot.getValue());
            }
            if (refused != null) {
                log.warn("upgrade: slot " + slot.getKey() + "'s own socket(s) close: " + refused
                        + "; connections queued on them are reset when the old workers exit");
            }
        }
        return listeners;
    }

    /** Takes a slot's handed-over sockets as its own; if they do not fit the binds, closes them and says why. */
    private String adoptSlot(int slotId, List<Integer> fds) {
        List<Listener> adopted;
        try {
            adopted = adoptEach(fds);
        } catch (IOException e) {
            return e.getMessage();
        }
        List<Listener> own = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < binds.size(); i++) {
            Listener l = !perSlot(binds.get(i)) || next >= adopted.size() ? null : adopted.get(next++);
            if (perSlot(binds.get(i)) && (l == null || !l.address().equals(first.get(i).address()))) {
                adopted.forEach(Listener::closeQuietly);
                return "they do not match the binds " + binds;
            }
            own.add(l);
        }
        if (next != adopted.size()) {
            adopted.forEach(Listener::closeQuietly);
            return "more of them than TCP binds " + binds;
        }
        bySlot.put(slotId, own);
        return null;
    }

    private static boolean boundForReuseport(Listener l) {
        try {
            return l.bind().isUnix() || io.prefork.unix.Sockets.reusesPort(l.fd());
        } catch (IOException e) {
            return false;
        }
    }

    /** Closes fds handed to us that we do not keep. */
    public static void closeFds(List<Integer> fds) {
        for (int fd : fds) {
            try {
                io.prefork.unix.Fds.close(fd);
            } catch (IOException e) {
                // a handed-over fd we do not keep: nothing else to do with it
            }
        }
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
            int[] q = io.prefork.unix.Sockets.listenQueue(l.fd());
            queues.add(new Metrics.ListenQueue(l.address(), slot, q[0], q[1]));
        } catch (IOException e) {
            // closed between the listing and the call: it has no queue to report
        }
    }

    public List<Listener> first() {
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
            boolean privileged = !bind.isUnix() && port > 0 && port < 1024 && IoReason.of(e).equals("Permission denied");
            throw new IOException("cannot listen on " + bind + ": " + IoReason.of(e)
                    + (privileged ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" : ""), e);
        }
    }

    /** The sockets slot {@code slotId} gets, in -b order; a new slot's reuseport sockets are bound now. */
    @Override
    public List<Handoff> forSlot(int slotId) throws IOException {
        List<Handoff> handoffs = new ArrayList<>();
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
            handoffs.add(new Handoff(listener.address(), listener.fd()));
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

    /** Each slot's own sockets past slot 1 (reuseport; TCP binds only, in -b order), for an upgrade. */
    @Override
    public SortedMap<Integer, List<Handoff>> ownSockets() {
        SortedMap<Integer, List<Handoff>> own = new TreeMap<>();
        bySlot.forEach((slot, sockets) -> {
            List<Handoff> handoffs = sockets.stream().filter(java.util.Objects::nonNull)
                    .map(l -> new Handoff(l.address(), l.fd())).toList();
            if (!handoffs.isEmpty()) {
                own.put(slot, handoffs);
            }
        });
        return own;
    }

    /** An upgrade handed these sockets on: their files must outlive this process. */
    public void keepPaths() {
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
