package io.prefork.worker;

import io.prefork.unix.NativeException;
import io.prefork.unix.Fds;
import io.prefork.unix.SocketActivity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connections this worker holds that were accepted on its listeners, as the kernel reports them:
 * every socket in /proc/self/fd whose local address in /proc/net/tcp, tcp6 or unix is a listener's.
 * A connection counts from the moment accept() returns, before the app's server has registered it
 * anywhere. The app's own outbound sockets (a database pool) have other local addresses and never count.
 */
final class AcceptedConnections {
    /** One held connection: an fd of this process, its socket inode, and whether it is TCP. */
    record Held(int fd, long inode, boolean tcp) {
    }

    private static final long POLL_MILLIS = 10;
    private static final String TCP_LISTEN = "0A";
    /** __SO_ACCEPTCON in /proc/net/unix's Flags column: a listening Unix socket. */
    private static final String UNIX_LISTENING = "00010000";

    private final Set<Long> listenerInodes;
    /**
     * The listeners' local addresses, kept once seen: a listener's row leaves /proc/net once no
     * process holds it (this worker gave its fds up, then the supervisor was killed), while the
     * connections it accepted still carry its address.
     */
    private final Set<String> exact = ConcurrentHashMap.newKeySet();
    private final Set<String> wildcardPorts = ConcurrentHashMap.newKeySet();
    private final Set<String> unixPaths = ConcurrentHashMap.newKeySet();

    AcceptedConnections(Set<Long> listenerInodes) {
        this.listenerInodes = Set.copyOf(listenerInodes);
    }

    /** Listener inodes from {@code socket:[inode]} identities, as WorkerRuntime keeps them. */
    static AcceptedConnections of(Set<String> listenerSockets) {
        Set<Long> inodes = new HashSet<>();
        for (String s : listenerSockets) {
            long inode = ProcSelf.socketInode(s);
            if (inode > 0) {
                inodes.add(inode);
            }
        }
        return new AcceptedConnections(inodes);
    }

    /** Reads the listeners' addresses now, while this worker still holds them (before a withdrawal). */
    void learnListeners() throws IOException {
        acceptedTcp(read("/proc/self/net/tcp") + read("/proc/self/net/tcp6"), Set.of());
        acceptedUnix(read("/proc/self/net/unix"), Set.of());
    }

    /** The connections held now. */
    List<Held> held() throws IOException {
        Map<Long, Integer> sockets = socketFds();
        List<Held> held = new ArrayList<>();
        for (long inode : acceptedTcp(read("/proc/self/net/tcp") + read("/proc/self/net/tcp6"), sockets.keySet())) {
            held.add(new Held(sockets.get(inode), inode, true));
        }
        for (long inode : acceptedUnix(read("/proc/self/net/unix"), sockets.keySet())) {
            held.add(new Held(sockets.get(inode), inode, false));
        }
        return held;
    }

    /**
     * Waits until no accepted connection is held, or {@code timeLeft} runs out. Returns true when
     * none is left. The kernel is asked every 10 ms; no quiet period is assumed.
     */
    boolean awaitClosed(Duration timeLeft) throws InterruptedException {
        long deadline = System.nanoTime() + timeLeft.toNanos();
        while (true) {
            try {
                if (held().isEmpty()) {
                    return true;
                }
            } catch (IOException e) {
                WorkerLog.info("cannot read the connections from /proc: " + e.getMessage() + "; not waiting");
                return false;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /**
     * Ends each held TCP connection (shutdown, both ways) as soon as it waits for its client (see
     * {@link SocketActivity}), the way nginx ends idle keep-alive connections when it stops, and waits
     * until every Unix one is closed, or {@code timeLeft} runs out. Returns how many were still busy.
     * Ending a connection the moment it is seen idle leaves the smallest window for the client's next
     * request to cross the close: microseconds, not the time the JVM takes to exit.
     */
    int closeWhenIdle(Duration timeLeft) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeLeft.toNanos();
        Map<Long, SocketActivity> seen = new HashMap<>();
        Set<Long> ended = new HashSet<>();
        while (true) {
            int busy = 0;
            for (Held h : held()) {
                if (!ended.contains(h.inode()) && !endIfIdle(h, seen, ended)) {
                    busy++;
                }
            }
            if (busy == 0 || System.nanoTime() >= deadline) {
                return busy;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /**
     * Ends {@code h} if it is idle, and adds it to {@code ended}; {@code seen} keeps each connection's
     * previous reading, by inode. Returns true if it is ended or gone.
     */
    private static boolean endIfIdle(Held h, Map<Long, SocketActivity> seen, Set<Long> ended) {
        if (!h.tcp()) {
            return false;
        }
        try {
            SocketActivity now = SocketActivity.of(h.fd());
            SocketActivity before = seen.put(h.inode(), now);
            if (before == null ? now.idle() : now.idleSince(before)) {
                if (ProcSelf.socketInode(ProcSelf.identity(h.fd())) == h.inode()) { // still the same socket
                    Fds.shutdown(h.fd());
                }
                ended.add(h.inode());
                return true;
            }
            return false;
        } catch (NativeException e) {
            // The app closed it (EBADF) or the fd is another file now: gone, or seen next round.
            // errno 0: this kernel's TCP_INFO is too old to tell, so it is waited for.
            return e.errno() != 0;
        }
    }

    /** Inode → fd for every socket this process holds. */
    private static Map<Long, Integer> socketFds() throws IOException {
        Map<Long, Integer> sockets = new HashMap<>();
        for (int fd : ProcSelf.fds()) {
            long inode = ProcSelf.socketInode(ProcSelf.identity(fd));
            if (inode > 0) {
                sockets.putIfAbsent(inode, fd);
            }
        }
        return sockets;
    }

    /**
     * Rows of /proc/net/tcp and tcp6 held by this process (inode in {@code ours}) whose local address
     * is a listener's: the same address and port, or the same port for a listener on a wildcard address.
     */
    Set<Long> acceptedTcp(String tables, Set<Long> ours) {
        List<String[]> rows = new ArrayList<>();
        for (String line : tables.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || !f[1].contains(":") || !ProcSelf.isNumber(f[9])) {
                continue; // a header
            }
            long inode = Long.parseLong(f[9]);
            if (listenerInodes.contains(inode) && f[3].equals(TCP_LISTEN)) {
                String address = f[1].substring(0, f[1].indexOf(':'));
                if (address.chars().allMatch(c -> c == '0')) {
                    wildcardPorts.add(f[1].substring(f[1].indexOf(':')));
                } else {
                    exact.add(f[1]);
                }
            } else if (ours.contains(inode) && !f[3].equals(TCP_LISTEN)) {
                rows.add(f);
            }
        }
        Set<Long> accepted = new HashSet<>();
        for (String[] f : rows) {
            if (exact.contains(f[1]) || wildcardPorts.contains(f[1].substring(f[1].indexOf(':')))) {
                accepted.add(Long.parseLong(f[9]));
            }
        }
        return accepted;
    }

    /**
     * Rows of /proc/net/unix held by this process that are not listening and carry a listener's path:
     * the kernel gives an accepted Unix socket the address of the listener that accepted it.
     */
    Set<Long> acceptedUnix(String table, Set<Long> ours) {
        List<String[]> rows = new ArrayList<>();
        for (String line : table.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8 || !ProcSelf.isNumber(f[6])) {
                continue; // a header, or a socket with no address
            }
            long inode = Long.parseLong(f[6]);
            if (listenerInodes.contains(inode)) {
                unixPaths.add(f[7]);
            } else if (ours.contains(inode) && !f[3].equals(UNIX_LISTENING)) {
                rows.add(f);
            }
        }
        Set<Long> accepted = new HashSet<>();
        for (String[] f : rows) {
            if (unixPaths.contains(f[7])) {
                accepted.add(Long.parseLong(f[6]));
            }
        }
        return accepted;
    }

    private static String read(String path) throws IOException {
        try {
            return Files.readString(Path.of(path));
        } catch (java.nio.file.NoSuchFileException e) {
            return ""; // no IPv6 in this kernel or namespace
        }
    }
}
