package io.prefork.worker;

import io.prefork.unix.Interrupts;
import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import io.prefork.unix.Fds;
import io.prefork.unix.UnixSockets;
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
import java.util.concurrent.locks.LockSupport;

/**
 * Stops an app that knows nothing of prefork from accepting, without closing the shared listening
 * socket (shutdown() would break it for every worker, and a reuseport socket's queue belongs to the
 * worker after this one):
 * <ol>
 *   <li>every epoll set of this process stops watching the listeners (NIO selectors, Netty);</li>
 *   <li>every fd of a listener is replaced (dup2) by a placeholder: a listening Unix socket whose
 *       path is already deleted, so nothing can ever connect to it;</li>
 *   <li>a thread blocked in accept() on one of those fds is woken with the JDK's own interrupt
 *       signal; the JDK retries on the same fd number, now the placeholder, and waits there for good;
 *       a thread woken in accept() by a connection, not yet run, is waited for until it has taken
 *       it.</li>
 * </ol>
 * Connections still in the listen queue stay there for the other workers.
 */
final class ListenerWithdrawal {
    /**
     * How long the threads that may be in accept() have to be seen out of it: each only has to be
     * scheduled once.
     */
    private static final Duration WAKE_TIMEOUT = Duration.ofSeconds(2);
    /** CPU time after which a runnable thread is taken to be busy outside accept(). */
    private static final long BUSY_CPU_NANOS = 1_000_000;

    private ListenerWithdrawal() {
    }

    /**
     * Withdraws the listeners; returns how many fds now hold the placeholder.
     *
     * @param near where the placeholder is bound for the moment before its path is deleted: the
     *             supervisor's private directory (the control socket's), which the supervisor removes
     *             whole as it exits, so a worker killed in that moment leaves nothing behind; null, or a
     *             directory this worker may not write (it runs as --user), for a fresh one in the
     *             temporary directory
     */
    static int withdraw(Set<String> listenerSockets, Path near) throws IOException {
        List<Integer> fds = new ArrayList<>();
        for (int fd : ProcSelf.fds()) {
            String identity = ProcSelf.identity(fd);
            if (listenerSockets.contains(identity)) {
                fds.add(fd);
            } else if (identity.equals(ProcSelf.EPOLL)) {
                removeListeners(fd, listenerSockets);
            }
        }
        if (fds.isEmpty()) {
            return 0;
        }
        int placeholder = placeholder(near);
        try {
            for (int fd : fds) {
                Fds.dup2(placeholder, fd);
            }
        } finally {
            Fds.close(placeholder);
        }
        Set<Integer> running = wakeAcceptors(fds, OWN_THREADS, WAKE_TIMEOUT);
        if (!running.isEmpty()) {
            WorkerLog.info("thread(s) " + running + " still runnable " + WAKE_TIMEOUT.toMillis() + " ms after the"
                    + " listeners were withdrawn: one woken in accept() may take one more connection");
        }
        return fds.size();
    }

    private static void removeListeners(int epfd, Set<String> listenerSockets) {
        for (ProcSelf.Watched w : ProcSelf.watchedBy(epfd)) {
            if (listenerSockets.contains("socket:[" + w.inode() + "]")) {
                try {
                    Interrupts.removeFromEpoll(epfd, w.fd());
                } catch (NativeException e) {
                    WorkerLog.info("cannot take listener fd " + w.fd() + " out of epoll set " + epfd + ": " + e.getMessage());
                }
            }
        }
    }

    /** A listening Unix socket no one can reach: bound in a private (0700) directory, its path then deleted. */
    private static int placeholder(Path near) throws IOException {
        if (near != null && Files.isWritable(near)) {
            Path path = near.resolve("withdrawn-" + ProcessHandle.current().pid());
            try {
                return UnixSockets.listen(path.toString(), 1).getFD();
            } catch (IOException | RuntimeException e) {
                // the supervisor is removing its directory as it exits: the temporary directory, then
            } finally {
                Files.deleteIfExists(path);
            }
        }
        Path dir = Files.createTempDirectory("prefork-withdrawn-");
        Path path = dir.resolve("s");
        try {
            // Its fd alone is kept (and closed with Fds.close): closing jnr-unixsocket's channel would
            // also shut the socket down, for every copy of the fd.
            return UnixSockets.listen(path.toString(), 1).getFD();
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Returns once no thread of this process can take one more connection from a listener's old file:
     * a thread that slept in accept() still holds the listener it found under the fd number, and
     * could take a connection from the shared queue after the app has stopped serving, which its
     * client would see reset or closed unanswered. Such a thread is either blocked in accept() on one
     * of {@code fds}, and is woken with the JDK's interrupt signal (the JDK retries on the same fd
     * number, now the placeholder, and waits there for good), or runnable: woken inside accept() by a
     * connection but not yet given a CPU, which /proc shows only as "running" (seen to last seconds
     * beside busy loops). So every thread that is runnable as the fds are replaced is watched until
     * it is seen blocked, or has run a millisecond since (see {@link #settled}): it has left any
     * accept() by then, and a connection it took is an fd of this process, counted by
     * {@link AcceptedConnections}; if it is blocked in accept() on one of the fd
     * numbers, it is woken too (once: a woken thread back in accept() is there on the placeholder). The
     * kernel says when a woken thread has left: the signal is no longer pending (it is taken on the way
     * out to user space).
     *
     * @return the threads still runnable at the deadline, each of which may take one more connection
     */
    static Set<Integer> wakeAcceptors(List<Integer> fds, Threads threads, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Integer> woken = new HashSet<>();
        Map<Integer, Long> runnable = null;  // tid → its CPU time when first seen
        while (true) {
            Map<Integer, ProcSelf.ThreadState> now = threads.states();
            if (runnable == null) {
                runnable = new HashMap<>();
                for (Map.Entry<Integer, ProcSelf.ThreadState> t : now.entrySet()) {
                    if (t.getValue().runnable()) {
                        runnable.put(t.getKey(), t.getValue().cpuNanos());
                    }
                }
            } else {
                runnable.entrySet().removeIf(r -> settled(r.getValue(), now.get(r.getKey())));
            }
            List<Integer> signalled = new ArrayList<>();
            for (Map.Entry<Integer, ProcSelf.ThreadState> t : now.entrySet()) {
                if (fds.contains(t.getValue().acceptFd()) && woken.add(t.getKey()) && threads.interrupt(t.getKey())) {
                    signalled.add(t.getKey());
                }
            }
            awaitTaken(signalled, threads, deadline, timeout);
            if (runnable.isEmpty() || System.nanoTime() > deadline) {
                return runnable.keySet();
            }
            LockSupport.parkNanos(1_000_000);  // a look reads a file per thread: not in a tight loop
        }
    }

    /**
     * Whether a thread runnable at the first look can no longer be inside accept() on an old file:
     * it ended, was seen blocked, or has run {@link #BUSY_CPU_NANOS} since. Woken in accept(), a
     * thread takes its connection and leaves in microseconds of CPU; one still runnable after a
     * millisecond of it is busy elsewhere (in a roll beside busy loops, a JVM thread, most likely a
     * JIT compiler's, stayed runnable past the 2 s bound).
     */
    private static boolean settled(long cpuAtFirstLook, ProcSelf.ThreadState now) {
        return now == null || !now.runnable()
                || cpuAtFirstLook >= 0 && now.cpuNanos() >= 0 && now.cpuNanos() - cpuAtFirstLook >= BUSY_CPU_NANOS;
    }

    private static void awaitTaken(List<Integer> signalled, Threads threads, long deadline, Duration timeout) {
        for (int tid : signalled) {
            while (threads.interruptPending(tid)) {
                if (System.nanoTime() > deadline) {
                    WorkerLog.info("thread " + tid + " has not left accept() within " + timeout.toMillis()
                            + " ms of the listeners' withdrawal; it may still take a connection");
                    return;
                }
                LockSupport.parkNanos(200_000);
            }
        }
    }

    /** This process's threads, as {@link #wakeAcceptors} sees and wakes them; tests give their own. */
    interface Threads {
        Map<Integer, ProcSelf.ThreadState> states() throws IOException;

        /**
         * Sends thread {@code tid} the JDK's interrupt signal; false if it was not sent: the thread has
         * ended, or the signal has no handler (its default action would end the process).
         */
        boolean interrupt(int tid);

        /** Whether thread {@code tid} has not yet taken that signal (false once it has ended). */
        boolean interruptPending(int tid);
    }

    private static final Threads OWN_THREADS = new Threads() {
        @Override
        public Map<Integer, ProcSelf.ThreadState> states() throws IOException {
            Map<Integer, ProcSelf.ThreadState> states = ProcSelf.threads();
            states.replaceAll((tid, state) ->
                    state.runnable() ? ProcSelf.ThreadState.runnable(ProcSelf.cpuNanos(tid)) : state);
            return states;
        }

        @Override
        public boolean interrupt(int tid) {
            if (!jdkInterruptSignalCaught()) {
                return false;
            }
            try {
                Interrupts.signalThread(tid, Linux.SIG_JDK_INTERRUPT);
                return true;
            } catch (NativeException e) {
                return false;
            }
        }

        @Override
        public boolean interruptPending(int tid) {
            return ProcSelf.signalPending(tid, Linux.SIG_JDK_INTERRUPT);
        }
    };

    private static boolean jdkInterruptSignalCaught() {
        for (String line : ProcSelf.read(Path.of("/proc/self/status")).split("\n")) {
            if (line.startsWith("SigCgt:")) {
                long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                return (mask & (1L << (Linux.SIG_JDK_INTERRUPT - 1))) != 0;
            }
        }
        return false;
    }
}
