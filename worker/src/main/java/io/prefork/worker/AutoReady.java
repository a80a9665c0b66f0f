package io.prefork.worker;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Readiness for apps that know nothing of prefork: the worker is READY once some thread of the app
 * accepts on one of its listeners. Linux shows this in /proc: a thread blocked in accept() or
 * accept4() (/proc/self/task/N/syscall), or an epoll set that holds the socket
 * (/proc/self/fdinfo/N, "tfd:" lines), which covers NIO selectors and Netty.
 * Sockets are matched by identity ({@code socket:[inode]}), not fd number: the JDK's
 * System.inheritedChannel() works on a dup of fd 0, and apps may dup too.
 * Polls every 10 ms until ready, then stops.
 */
final class AutoReady implements Runnable {
    private static final long POLL_MILLIS = 10;
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final Path FDS = Path.of("/proc/self/fd");

    private final WorkerRuntime runtime;
    private final List<Integer> acceptSyscalls;

    AutoReady(WorkerRuntime runtime) {
        this.runtime = runtime;
        this.acceptSyscalls = "aarch64".equals(System.getProperty("os.arch"))
                ? List.of(202, 242)   // accept, accept4 on arm64
                : List.of(43, 288);   // accept, accept4 on x86_64
    }

    static void start(WorkerRuntime runtime) {
        Thread t = new Thread(new AutoReady(runtime), "prefork-auto-ready");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void run() {
        try {
            runtime.awaitListeners(); // a parked spare has nothing to look for: scanning /proc cost it 9% of a core
        } catch (InterruptedException e) {
            return;
        }
        while (!runtime.isReady() && !runtime.isStopping()) {
            if (accepting(runtime.listenerSockets())) {
                runtime.markReady("the app accepts on its listener");
                return;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** {@code socket:[inode]} of an open fd of this process, or "" if it is not open. */
    static String identity(int fd) {
        try {
            return Files.readSymbolicLink(FDS.resolve(Integer.toString(fd))).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    boolean accepting(Set<String> sockets) {
        return blockedInAccept(sockets) || inEpollSet(sockets);
    }

    boolean blockedInAccept(Set<String> sockets) {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                String[] parts = readQuietly(task.resolve("syscall")).trim().split(" ");
                if (parts.length > 1 && isInt(parts[0]) && acceptSyscalls.contains(Integer.parseInt(parts[0]))
                        && parts[1].startsWith("0x")
                        && sockets.contains(identity((int) Long.parseUnsignedLong(parts[1].substring(2), 16)))) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    boolean inEpollSet(Set<String> sockets) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(FDS)) {
            for (Path entry : entries) {
                if (!identity(Integer.parseInt(entry.getFileName().toString())).equals("anon_inode:[eventpoll]")) {
                    continue;
                }
                for (String line : readQuietly(Path.of("/proc/self/fdinfo", entry.getFileName().toString())).split("\n")) {
                    if (line.startsWith("tfd:")) {
                        String[] parts = line.substring(4).trim().split("\\s+");
                        if (isInt(parts[0]) && sockets.contains(identity(Integer.parseInt(parts[0])))) {
                            return true;
                        }
                    }
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return ""; // the thread or fd went away while we looked
        }
    }

    private static boolean isInt(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
