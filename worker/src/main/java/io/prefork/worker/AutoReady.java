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
 * accept4() on the fd (/proc/self/task/N/syscall), or an epoll set that holds the fd
 * (/proc/self/fdinfo/N, "tfd:" lines), which covers NIO selectors and Netty.
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
        while (!runtime.isReady() && !runtime.isStopping()) {
            if (accepting(runtime.acceptFds())) {
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

    boolean accepting(Set<Integer> fds) {
        return blockedInAccept(fds) || inEpollSet(fds);
    }

    private boolean blockedInAccept(Set<Integer> fds) {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                String[] parts = readQuietly(task.resolve("syscall")).trim().split(" ");
                if (parts.length > 1 && isInt(parts[0]) && acceptSyscalls.contains(Integer.parseInt(parts[0]))
                        && parts[1].startsWith("0x")
                        && fds.contains((int) Long.parseUnsignedLong(parts[1].substring(2), 16))) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private boolean inEpollSet(Set<Integer> fds) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(FDS)) {
            for (Path entry : entries) {
                if (!isEpoll(entry)) {
                    continue;
                }
                for (String line : readQuietly(Path.of("/proc/self/fdinfo", entry.getFileName().toString())).split("\n")) {
                    if (line.startsWith("tfd:")) {
                        String[] parts = line.substring(4).trim().split("\\s+");
                        if (isInt(parts[0]) && fds.contains(Integer.parseInt(parts[0]))) {
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

    private static boolean isEpoll(Path fdLink) {
        try {
            return Files.readSymbolicLink(fdLink).toString().equals("anon_inode:[eventpoll]");
        } catch (IOException | UnsupportedOperationException e) {
            return false; // the fd closed while we looked
        }
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
