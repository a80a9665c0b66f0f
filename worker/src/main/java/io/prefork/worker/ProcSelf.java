package io.prefork.worker;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What Linux shows of this process in /proc: its fds by identity, the threads blocked in accept(),
 * and what its epoll sets watch. Sockets are told apart by identity ({@code socket:[inode]}), never
 * by fd number: the JDK's System.inheritedChannel() works on a dup of fd 0, and apps may dup too.
 */
final class ProcSelf {
    static final String EPOLL = "anon_inode:[eventpoll]";
    private static final Path FDS = Path.of("/proc/self/fd");
    private static final Path TASKS = Path.of("/proc/self/task");
    static final List<Integer> ACCEPT_SYSCALLS = "aarch64".equals(System.getProperty("os.arch"))
            ? List.of(202, 242)   // accept, accept4 on arm64
            : List.of(43, 288);   // accept, accept4 on x86_64

    private ProcSelf() {
    }

    /** What an open fd of this process is ({@code socket:[inode]}, a path...), or "" if it is not open. */
    static String identity(int fd) {
        try {
            return Files.readSymbolicLink(FDS.resolve(Integer.toString(fd))).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    /** Every open fd of this process. */
    static List<Integer> fds() throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(FDS)) {
            for (Path entry : entries) {
                fds.add(Integer.parseInt(entry.getFileName().toString()));
            }
        }
        return fds;
    }

    /** Thread id → the fd it is blocked on, for every thread of this process in accept() or accept4(). */
    static Map<Integer, Integer> threadsInAccept() throws IOException {
        Map<Integer, Integer> blocked = new HashMap<>();
        threads().forEach((tid, state) -> {
            if (state.inAccept()) {
                blocked.put(tid, state.acceptFd());
            }
        });
        return blocked;
    }

    /**
     * A thread as its /proc/self/task/TID/syscall shows it: runnable (Linux shows no system call for a
     * thread on a CPU or waiting for one, including one just woken inside a call), or blocked, with
     * the fd it called accept() or accept4() on if that is where it is, else -1. For a runnable one,
     * the CPU time it has run in all ({@link #cpuNanos}), or -1 if unknown.
     */
    record ThreadState(boolean runnable, int acceptFd, long cpuNanos) {
        static final ThreadState RUNNABLE = new ThreadState(true, -1, -1);
        static final ThreadState BLOCKED = new ThreadState(false, -1, -1);

        static ThreadState runnable(long cpuNanos) {
            return new ThreadState(true, -1, cpuNanos);
        }

        boolean inAccept() {
            return acceptFd >= 0;
        }

        /** Parses a syscall file's text: "running", or the call's number and arguments (-1 for none). */
        static ThreadState parse(String syscall) {
            String[] parts = syscall.trim().split(" ");
            if (parts[0].equals("running")) {
                return RUNNABLE;
            }
            if (parts.length > 1 && isNumber(parts[0]) && ACCEPT_SYSCALLS.contains(Integer.parseInt(parts[0]))
                    && parts[1].startsWith("0x")) {
                return new ThreadState(false, (int) Long.parseUnsignedLong(parts[1].substring(2), 16), -1);
            }
            return BLOCKED;
        }
    }

    /** The CPU time thread {@code tid} has run in all (the first field of its schedstat), or -1 if unknown. */
    static long cpuNanos(int tid) {
        String[] schedstat = read(TASKS.resolve(Integer.toString(tid)).resolve("schedstat")).trim().split(" ");
        return isNumber(schedstat[0]) ? Long.parseLong(schedstat[0]) : -1;
    }

    /**
     * Thread id → its state, for every thread of this process (one that ends while we look is left
     * out); a runnable one's CPU time is not read here (-1).
     */
    static Map<Integer, ThreadState> threads() throws IOException {
        Map<Integer, ThreadState> threads = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                String syscall = read(task.resolve("syscall"));
                if (!syscall.isBlank()) {
                    threads.put(Integer.parseInt(task.getFileName().toString()), ThreadState.parse(syscall));
                }
            }
        }
        return threads;
    }

    /**
     * Whether {@code signal} is still pending for thread {@code tid} (its SigPnd in
     * /proc/self/task/TID/status): false once the thread has taken it, on its way out of the system
     * call it was in, or once the thread is gone.
     */
    static boolean signalPending(int tid, int signal) {
        for (String line : read(TASKS.resolve(Integer.toString(tid)).resolve("status")).split("\n")) {
            if (line.startsWith("SigPnd:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << (signal - 1))) != 0;
            }
        }
        return false;
    }

    /** A watched file of an epoll set: the fd number it was added under, the file's inode, the events and data it was added with. */
    record Watched(int fd, long inode, int events, long data) {
    }

    /** What epoll set {@code epfd} watches, from its "tfd: N ... ino:HEX" lines in /proc/self/fdinfo. */
    static List<Watched> watchedBy(int epfd) {
        List<Watched> watched = new ArrayList<>();
        for (String line : read(Path.of("/proc/self/fdinfo", Integer.toString(epfd))).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2 || !f[0].equals("tfd:") || !isNumber(f[1])) {
                continue;
            }
            // tfd: N events: HEX data: HEX pos:0 ino:HEX sdev:HEX
            int events = 0;
            long data = 0;
            for (int i = 2; i + 1 < f.length; i++) {
                if (f[i].equals("events:")) {
                    events = (int) Long.parseUnsignedLong(f[i + 1], 16);
                } else if (f[i].equals("data:")) {
                    data = Long.parseUnsignedLong(f[i + 1], 16);
                }
            }
            for (String field : f) {
                if (field.startsWith("ino:")) {
                    watched.add(new Watched(Integer.parseInt(f[1]), Long.parseLong(field.substring(4), 16), events, data));
                }
            }
        }
        return watched;
    }

    /** The inode of a {@code socket:[inode]} identity, or -1 for anything else. */
    static long socketInode(String identity) {
        if (!identity.startsWith("socket:[") || !identity.endsWith("]")) {
            return -1;
        }
        String digits = identity.substring(8, identity.length() - 1);
        return isNumber(digits) ? Long.parseLong(digits) : -1;
    }

    /** A /proc file's text, or "" if it went away while we looked. */
    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }
}
