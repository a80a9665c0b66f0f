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
 *       signal; the JDK retries on the same fd number, now the placeholder, and waits there for good.</li>
 * </ol>
 * Connections still in the listen queue stay there for the other workers.
 */
final class ListenerWithdrawal {
    /** How long a woken acceptor may take to leave accept(): it only has to be scheduled once. */
    private static final Duration WAKE_TIMEOUT = Duration.ofSeconds(2);

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
        wakeAcceptors(fds);
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
     * Wakes each thread blocked in accept() on one of {@code fds}, and returns once each has left that
     * accept(): a thread that slept there still holds the listener it found under the fd number, and
     * could take one more connection from the shared queue after the app has stopped serving, which
     * its client would see reset. The kernel says when the thread has left: the signal is no longer
     * pending (it is taken on the way out to user space; a connection accepted just before is then an
     * fd of this process, counted by {@link AcceptedConnections}). A second round catches a thread
     * that was entering accept() as the fds were replaced (a woken thread's retry, on the new file,
     * is left alone). Only while the JDK's interrupt signal has a handler: its default action would
     * end the process.
     */
    private static void wakeAcceptors(List<Integer> fds) throws IOException {
        if (!jdkInterruptSignalCaught()) {
            return;
        }
        Set<Integer> woken = new HashSet<>();
        for (int round = 0; round < 2; round++) {
            List<Integer> signalled = new ArrayList<>();
            for (Map.Entry<Integer, Integer> blocked : ProcSelf.threadsInAccept().entrySet()) {
                // A thread woken in the first round that is back in accept() is there on the new file: a
                // second signal would only send it on to the JDK's poll(), where nothing sees it accept.
                if (fds.contains(blocked.getValue()) && woken.add(blocked.getKey())) {
                    try {
                        Interrupts.signalThread(blocked.getKey(), Linux.SIG_JDK_INTERRUPT);
                        signalled.add(blocked.getKey());
                    } catch (NativeException e) {
                        // the thread ended meanwhile
                    }
                }
            }
            awaitTaken(signalled);
        }
    }

    private static void awaitTaken(List<Integer> threads) {
        long deadline = System.nanoTime() + WAKE_TIMEOUT.toNanos();
        for (int tid : threads) {
            while (ProcSelf.signalPending(tid, Linux.SIG_JDK_INTERRUPT)) {
                if (System.nanoTime() > deadline) {
                    WorkerLog.info("thread " + tid + " has not left accept() " + WAKE_TIMEOUT.toMillis()
                            + " ms after it was woken; it may still take a connection");
                    return;
                }
                LockSupport.parkNanos(200_000);
            }
        }
    }

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
