package io.prefork.supervisor.net;

import io.prefork.supervisor.Log;
import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Set;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;

/**
 * accept(2) on one of the supervisor's Unix sockets (control, admin) that outlives running out of
 * file descriptors or memory: those leave the connection queued, so the acceptor pauses and tries
 * again instead of giving up for good (which would keep every later worker, or every later
 * `prefork ctl`, out). The log says so once per episode, and once when accepting works again.
 * Any other error (the socket was shut down or closed) ends the accepting, as before.
 */
public final class Acceptor {
    static final long PAUSE_MILLIS = 100;
    private static final Set<Integer> TRANSIENT = Set.of(Linux.EMFILE, Linux.ENFILE, Linux.ENOBUFS, Linux.ENOMEM);

    private final String label;
    private final Log log;
    private boolean failing;

    public Acceptor(String label, Log log) {
        this.label = label;
        this.log = log;
    }

    public UnixSocketChannel accept(UnixServerSocketChannel server) throws IOException {
        while (true) {
            try {
                UnixSocketChannel client = UnixSockets.accept(server);
                if (failing) {
                    failing = false;
                    log.info(label + ": accepting connections again");
                }
                return client;
            } catch (NativeException e) {
                if (!TRANSIENT.contains(e.errno())) {
                    throw e;
                }
                if (!failing) {
                    failing = true;
                    log.warn(label + ": cannot accept a connection (" + e.reason() + "); it waits in the queue,"
                            + " and accept is tried again every " + PAUSE_MILLIS + " ms until it works");
                }
                try {
                    Thread.sleep(PAUSE_MILLIS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while accept failed: " + e.getMessage());
                }
            }
        }
    }
}
