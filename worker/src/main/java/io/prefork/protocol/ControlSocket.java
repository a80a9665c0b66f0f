package io.prefork.protocol;

import io.prefork.unix.FdTransport;
import io.prefork.unix.Fds;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.unixsocket.UnixSocketChannel;

/**
 * One end of a control connection: a connected Unix stream socket that carries {@link ControlMessage}
 * lines and, with FDS, file descriptors. The socket is jnr-unixsocket's; bytes and fds cross it
 * through an {@link FdTransport}: the worker's own minimal one, or the supervisor's jnr-posix one.
 *
 * <p>Threading: one thread reads ({@link #receive}), any thread may send. The reading thread owns
 * the fd: {@link #shutdown()} only wakes it (closing an fd another thread blocks on would not, and
 * the number could be reused under it), and the reader closes the fd when it sees the end.
 */
public final class ControlSocket {
    private final UnixSocketChannel channel;
    private final FdTransport transport;
    private final int fd;
    private final byte[] chunk = new byte[ControlMessage.MAX_LINE];
    private final byte[] line = new byte[ControlMessage.MAX_LINE];
    private int lineLength;
    private int chunkStart;
    private int chunkEnd;
    private final List<Integer> receivedFds = new ArrayList<>();
    private final Object sendLock = new Object();
    private boolean closed;

    public ControlSocket(UnixSocketChannel channel, FdTransport transport) {
        this.channel = channel;
        this.transport = transport;
        this.fd = channel.getFD();
    }

    /** Connects to the supervisor's control socket at {@code path}. */
    public static ControlSocket connect(String path, FdTransport transport) throws IOException {
        return new ControlSocket(UnixSockets.connect(path), transport);
    }

    public int fd() {
        return fd;
    }

    public void send(ControlMessage message) throws IOException {
        synchronized (sendLock) {
            checkOpen();
            transport.write(fd, message.encode());
        }
    }

    public void sendWithFds(ControlMessage message, int[] fds) throws IOException {
        synchronized (sendLock) {
            checkOpen();
            transport.sendWithFds(fd, message.encode(), fds);
        }
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("control connection is closed");
        }
    }

    /**
     * Blocks for the next message; null at end of stream. Fds that arrived with it are kept for
     * {@link #takeReceivedFds()}. A line over {@link ControlMessage#MAX_LINE} is a ProtocolException.
     */
    public ControlMessage receive() throws IOException {
        while (true) {
            for (int i = chunkStart; i < chunkEnd; i++) {
                if (chunk[i] == '\n') {
                    append(chunkStart, i);
                    chunkStart = i + 1;
                    String text = new String(line, 0, lineLength, StandardCharsets.UTF_8);
                    lineLength = 0;
                    return ControlMessage.parse(text);
                }
            }
            append(chunkStart, chunkEnd);
            int n = transport.receive(fd, chunk, receivedFds);
            if (n < 0) {
                return null;
            }
            chunkStart = 0;
            chunkEnd = n;
        }
    }

    private void append(int from, int to) throws ProtocolException {
        int n = to - from;
        if (lineLength + n >= ControlMessage.MAX_LINE) {
            throw new ProtocolException("control line longer than " + ControlMessage.MAX_LINE + " bytes");
        }
        System.arraycopy(chunk, from, line, lineLength, n);
        lineLength += n;
        chunkStart = to;
    }

    /** The fds received so far (in arrival order); the caller now owns them. */
    public List<Integer> takeReceivedFds() {
        List<Integer> fds = List.copyOf(receivedFds);
        receivedFds.clear();
        return fds;
    }

    /** Ends the connection in both directions and wakes a blocked reader. Safe from any thread. */
    public void shutdown() {
        synchronized (sendLock) {
            if (!closed) {
                Fds.shutdown(fd);
            }
        }
    }

    /** Called by the reading thread once it is done: releases the fd and any fds never taken. */
    public void close() {
        synchronized (sendLock) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                channel.close();
                for (int received : takeReceivedFds()) {
                    Fds.close(received);
                }
            } catch (IOException e) {
                // Closing can only fail with EBADF here, which would be our own bug; nothing to recover.
                throw new IllegalStateException(e);
            }
        }
    }
}
