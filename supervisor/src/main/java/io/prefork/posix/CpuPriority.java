package io.prefork.posix;

import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import jnr.posix.POSIX;

/**
 * Nice values, with jnr-posix. Linux keeps one per thread, and a new thread (or child process)
 * starts with its creator's: a JVM started from a thread at nice 10 boots entirely at nice 10.
 */
public final class CpuPriority {
    private static final int PRIO_PROCESS = 0;
    private static final int CAP_SYS_NICE = 23;

    private CpuPriority() {
    }

    /** The calling thread's nice value. */
    public static int ofThisThread() throws IOException {
        return niceOf(Path.of("/proc/thread-self/stat"));
    }

    /**
     * Whether this process may take a thread it lowered back up to {@code nice}: CAP_SYS_NICE, or a
     * nice limit (RLIMIT_NICE: {@code ulimit -e}, systemd's LimitNICE=) that reaches it.
     */
    public static boolean mayRaiseTo(int nice) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:") && (Long.parseLong(line.substring(7).trim(), 16) & (1L << CAP_SYS_NICE)) != 0) {
                return true;
            }
        }
        return niceLimit(Files.readString(Path.of("/proc/self/limits"))) >= 20 - nice;
    }

    /**
     * The soft RLIMIT_NICE in /proc/PID/limits ("Max nice priority", soft, hard, no unit), -1 if it
     * is not there. Read from /proc, not with getrlimit: this runs at start, before jnr-posix loads.
     */
    static long niceLimit(String limits) {
        for (String line : limits.split("\n")) {
            if (line.startsWith("Max nice priority")) {
                String soft = line.substring("Max nice priority".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        return -1;
    }

    /** Sets the calling thread's nice value; what it starts from now on inherits it. */
    public static void setThisThread(int nice) throws IOException {
        String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();  // "PID/task/TID"
        set(Long.parseLong(self.substring(self.lastIndexOf('/') + 1)), nice);
    }

    /**
     * Sets every thread of process {@code pid} to {@code nice}. A thread that one not yet set starts
     * meanwhile inherits the old value, so it goes over them again until none is left (three rounds
     * at most: a JVM that serves starts few threads). A thread or process gone meanwhile is skipped.
     */
    public static void setEveryThread(long pid, int nice) throws IOException {
        for (int round = 0; round < 3; round++) {
            boolean changed = false;
            for (long tid : threads(pid)) {
                Integer now = niceOrNull(Path.of("/proc/" + pid + "/task/" + tid + "/stat"));
                if (now != null && now != nice) {
                    set(tid, nice);
                    changed = true;
                }
            }
            if (!changed) {
                return;
            }
        }
    }

    private static long[] threads(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.mapToLong(p -> Long.parseLong(p.getFileName().toString())).toArray();
        } catch (java.nio.file.NoSuchFileException e) {
            return new long[0];  // the process is gone
        }
    }

    private static void set(long tid, int nice) throws NativeException {
        POSIX posix = JnrPosix.posix();
        if (posix.setpriority(PRIO_PROCESS, (int) tid, nice) != 0 && posix.errno() != Linux.ESRCH) {
            throw JnrPosix.failure(posix, "setpriority(PRIO_PROCESS, " + tid + ", " + nice + ")");
        }
    }

    private static Integer niceOrNull(Path stat) throws IOException {
        try {
            return niceOf(stat);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Field 19 of /proc/…/stat, counted after the command's closing parenthesis. */
    private static int niceOf(Path stat) throws IOException {
        String s = Files.readString(stat);
        return Integer.parseInt(s.substring(s.lastIndexOf(')') + 2).split(" ")[16]);
    }
}
