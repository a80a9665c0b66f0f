package io.prefork.supervisor.net;

import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.Log;
import io.prefork.unix.Fds;
import io.prefork.unix.NativeException;
import io.prefork.unix.PeerCredentials;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.file.Path;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;

/**
 * A Unix socket that only this supervisor's own children may use (the workers' control socket, the
 * upgrade socket): in a fresh 0700 directory, and each peer checked by its SO_PEERCRED pid before a
 * byte is read. An acceptor thread admits peers; each admitted connection gets a reader thread of
 * its own, which owns its fd. Nothing here decides anything: the handler turns what it reads into
 * events for the loop.
 */
public final class ChildSocket implements AutoCloseable {
    /** What a socket's owner does with its peers. */
    public interface Handler {
        /** Whether this peer may talk to us; the handler logs a refusal. */
        boolean admit(PeerCredentials peer) throws InterruptedException;

        /** Reads the admitted connection until it ends, on its own thread; closes it. */
        void serve(UnixSocketChannel connection, PeerCredentials peer);

        /** Accepting failed while the socket was open: no one else can connect. */
        void acceptFailed(IOException e);
    }

    private final UnixSocketFiles.PrivateSocket socket;
    private final String label;
    private final Log log;
    private final Handler handler;
    private volatile boolean closed;

    private ChildSocket(UnixSocketFiles.PrivateSocket socket, String label, Log log, Handler handler) {
        this.socket = socket;
        this.label = label;
        this.log = log;
        this.handler = handler;
    }

    /**
     * @param label what it is for ({@code control}, {@code upgrade}): its directory is
     *              {@code prefork-LABEL-*}, its threads {@code prefork-LABEL-accept} and {@code prefork-LABEL-FD}
     * @param group the gid of children that run as another user (--user), which may enter; -1 if none
     */
    public static ChildSocket open(String label, String fileName, int backlog, int group, Log log, Handler handler)
            throws IOException {
        ChildSocket child = new ChildSocket(UnixSocketFiles.bindInPrivateDirectory("prefork-" + label + "-", fileName,
                backlog, group), label, log, handler);
        Daemons.start("prefork-" + label + "-accept", child::acceptLoop);
        return child;
    }

    public Path path() {
        return socket.path();
    }

    /** Owns the listening socket: close() only wakes it, and it closes the socket on its way out. */
    private void acceptLoop() {
        UnixServerSocketChannel server = socket.channel();
        Acceptor acceptor = new Acceptor(label, log);
        while (true) {
            UnixSocketChannel client;
            try {
                client = acceptor.accept(server);
            } catch (IOException e) {
                if (!closed) {
                    handler.acceptFailed(e);
                }
                closeQuietly(server);
                return;
            }
            try {
                PeerCredentials peer = UnixSockets.peer(client);
                if (handler.admit(peer)) {
                    Daemons.start("prefork-" + label + "-" + client.getFD(), () -> handler.serve(client, peer));
                    continue;
                }
            } catch (NativeException e) {
                log.warn(label + ": refused a connection: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            closeQuietly(client);
        }
    }

    private static void closeQuietly(Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // at this point there is nothing left to do with it
        }
    }

    /** Wakes the acceptor, which closes the socket; removes the socket's file and directory. */
    @Override
    public void close() {
        closed = true;
        Fds.shutdown(socket.channel().getFD());
        socket.removeFiles();
    }
}
