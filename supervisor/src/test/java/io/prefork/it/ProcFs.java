package io.prefork.it;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What Linux says about sockets and processes, read from /proc. */
final class ProcFs {
    private ProcFs() {
    }

    /** Inodes of the listening (state 0A) TCP sockets on {@code port}, IPv4 and IPv6. */
    static List<Long> listeningInodes(int port) throws IOException {
        return new ArrayList<>(tcpInodes(port, "0A"));
    }

    /** Inodes of the established (state 01) server-side TCP connections on local {@code port}. */
    static Set<Long> establishedInodes(int port) throws IOException {
        return new HashSet<>(tcpInodes(port, "01"));
    }

    private static List<Long> tcpInodes(int port, String state) throws IOException {
        List<Long> inodes = new ArrayList<>();
        String hexPort = String.format(":%04X", port);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                // inode 0: a socket no process holds any more (closing, or not yet accepted)
                if (f.length > 9 && f[1].endsWith(hexPort) && f[3].equals(state) && !f[9].equals("0")) {
                    inodes.add(Long.parseLong(f[9]));
                }
            }
        }
        return inodes;
    }

    /**
     * Connections waiting in the accept queues of the listening sockets on {@code port}: for a socket
     * in LISTEN state, /proc/net/tcp's rx_queue is its accept queue.
     */
    static int queuedOnListeners(int port) throws IOException {
        int queued = 0;
        String hexPort = String.format(":%04X", port);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(hexPort) && f[3].equals("0A")) {
                    queued += Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
                }
            }
        }
        return queued;
    }

    /** "address:port" of every listening TCP socket that one of {@code pids} holds an fd for. */
    static Set<String> tcpListenersHeldBy(java.util.Collection<Long> pids) throws IOException {
        Set<Long> held = new HashSet<>();
        for (long pid : pids) {
            try {
                held.addAll(socketInodes(pid));
            } catch (IOException gone) {
                // the process ended while we looked
            }
        }
        Set<String> listening = new java.util.TreeSet<>();
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[3].equals("0A") && held.contains(Long.parseLong(f[9]))) {
                    listening.add(address(f[1]));
                }
            }
        }
        return listening;
    }

    /** /proc/net/tcp's hex "0100007F:1F90" as "127.0.0.1:8080"; IPv6 as "[hex]:port". */
    private static String address(String hex) {
        String[] parts = hex.split(":");
        int port = Integer.parseInt(parts[1], 16);
        if (parts[0].length() == 8) {
            long a = Long.parseLong(parts[0], 16);
            return (a & 0xff) + "." + ((a >> 8) & 0xff) + "." + ((a >> 16) & 0xff) + "." + ((a >> 24) & 0xff) + ":" + port;
        }
        return "[" + parts[0] + "]:" + port;
    }

    /** Inodes of every socket the process holds an fd for. */
    static Set<Long> socketInodes(long pid) throws IOException {
        Set<Long> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
                    }
                } catch (IOException e) {
                    // the fd closed while we looked
                }
            }
        }
        return inodes;
    }

    /**
     * Waits until one of {@code pids} holds an established connection on the port: a request was
     * accepted. Returns that pid.
     */
    static long awaitAccepted(int port, java.util.Collection<Long> pids) throws IOException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            Set<Long> established = establishedInodes(port);
            for (long pid : pids) {
                Set<Long> held;
                try {
                    held = socketInodes(pid);
                } catch (IOException gone) {
                    continue;  // a worker that has exited since
                }
                held.retainAll(established);
                if (!held.isEmpty()) {
                    return pid;
                }
            }
            RunningSupervisor.pause(2);
        }
        throw new AssertionError("no worker of " + pids + " accepted the request within 20 s");
    }

    /** utime + stime of a live process, in clock ticks (1/100 s here). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** The nice value of each thread of a live process (field 19 of its tasks' stat), in no order. */
    static List<Integer> threadNiceValues(long pid) throws IOException {
        List<Integer> nice = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    nice.add(Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]));
                } catch (java.nio.file.NoSuchFileException ended) {
                    // a thread that ended while we looked
                }
            }
        }
        return nice;
    }

    /**
     * Waits until every thread of {@code pid} is stopped, not just the main one: an acceptor thread
     * still running could take one more connection after we looked. False if it died or timed out.
     */
    static boolean awaitAllThreadsStopped(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
                boolean all = true;
                for (Path task : tasks.toList()) {
                    String stat = Files.readString(task.resolve("stat"));
                    String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
                    all &= state.equals("T") || state.equals("t");
                }
                if (all) {
                    return true;
                }
            } catch (IOException gone) {
                return false;
            }
            RunningSupervisor.pause(2);
        }
        return false;
    }
}
