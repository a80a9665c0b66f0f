package io.prefork.worker;

import java.io.IOException;
import java.util.Set;

/**
 * Readiness for apps that know nothing of prefork: the worker is READY once some thread of the app
 * accepts on one of its listeners. Linux shows this in /proc: a thread blocked in accept() or
 * accept4() (/proc/self/task/N/syscall), or an epoll set that holds the socket
 * (/proc/self/fdinfo/N, "tfd:" lines), which covers NIO selectors and Netty.
 * Sockets are matched by identity ({@code socket:[inode]}), not fd number (see {@link ProcSelf}).
 * Polls every 10 ms until ready, then stops.
 */
final class AutoReady implements Runnable {
    private static final long POLL_MILLIS = 10;
    private final WorkerRuntime runtime;

    AutoReady(WorkerRuntime runtime) {
        this.runtime = runtime;
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

    static boolean accepting(Set<String> sockets) {
        return blockedInAccept(sockets) || inEpollSet(sockets);
    }

    static boolean blockedInAccept(Set<String> sockets) {
        try {
            for (int fd : ProcSelf.threadsInAccept().values()) {
                if (sockets.contains(ProcSelf.identity(fd))) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static boolean inEpollSet(Set<String> sockets) {
        try {
            for (int fd : ProcSelf.fds()) {
                if (ProcSelf.identity(fd).equals(ProcSelf.EPOLL)) {
                    for (ProcSelf.Watched w : ProcSelf.watchedBy(fd)) {
                        if (sockets.contains("socket:[" + w.inode() + "]")) {
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
}
