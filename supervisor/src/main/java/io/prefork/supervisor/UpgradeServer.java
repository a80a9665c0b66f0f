package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import io.prefork.unix.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Consumer;

/**
 * The old supervisor's end of an upgrade: a Unix socket in a fresh 0700 directory that exactly one
 * peer may use, the new supervisor this one started (checked by SO_PEERCRED pid). Its thread turns
 * the connection and each line into {@link Event}s; the loop answers through {@link #send}.
 */
final class UpgradeServer implements AutoCloseable {
    private final Path dir;
    private final Path socketPath;
    private final int fd;
    private final Consumer<Event> sink;
    private final Log log;
    private volatile long expectedPid = -1;
    private volatile ControlSocket peer;
    private volatile boolean closed;

    private UpgradeServer(Path dir, Path socketPath, int fd, Consumer<Event> sink, Log log) {
        this.dir = dir;
        this.socketPath = socketPath;
        this.fd = fd;
        this.sink = sink;
        this.log = log;
    }

    static UpgradeServer start(Consumer<Event> sink, Log log) throws IOException {
        Path dir = Files.createTempDirectory("prefork-upgrade-", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path socketPath = dir.resolve("upgrade.sock");
        int fd = Posix.socket(Linux.AF_UNIX);
        try {
            Posix.bindUnix(fd, socketPath.toString());
            Posix.listen(fd, 4, "upgrade socket");
        } catch (IOException | IllegalArgumentException e) {
            Posix.close(fd);
            Files.deleteIfExists(socketPath);
            Files.deleteIfExists(dir);
            throw new IOException("cannot create the upgrade socket in " + dir + ": " + e.getMessage(), e);
        }
        UpgradeServer server = new UpgradeServer(dir, socketPath, fd, sink, log);
        Thread t = new Thread(server::serve, "prefork-upgrade");
        t.setDaemon(true);
        t.start();
        return server;
    }

    Path socketPath() {
        return socketPath;
    }

    /** The pid of the new supervisor, once started: only it may connect. */
    void expect(long pid) {
        expectedPid = pid;
    }

    /** Accepts the new supervisor (refusing anyone else), then reads its messages until it hangs up. */
    private void serve() {
        try {
            while (true) {
                int client = Posix.accept(fd);
                long pid = Posix.peerCredentials(client).pid();
                if (pid != expectedPid || peer != null) {
                    log.warn("upgrade: refused a connection from pid " + pid + " (waiting for pid " + expectedPid + ")");
                    Posix.close(client);
                    continue;
                }
                ControlSocket socket = new ControlSocket(client);
                peer = socket;
                sink.accept(new Event.UpgradeConnected());
                readFrom(socket);
                return;
            }
        } catch (NativeException e) {
            if (!closed) {
                sink.accept(new Event.UpgradeEnded("upgrade socket failed: " + e.getMessage()));
            }
        } finally {
            closeQuietly(fd);
        }
    }

    private void readFrom(ControlSocket socket) {
        String end = "the new supervisor hung up before it was READY";
        try {
            ControlMessage m;
            while ((m = socket.receive()) != null) {
                sink.accept(new Event.UpgradeMessage(m));
            }
        } catch (IOException e) {
            end = "the upgrade connection broke: " + e.getMessage();
        } finally {
            socket.close();
            if (!closed) {
                sink.accept(new Event.UpgradeEnded(end));
            }
        }
    }

    /** Loop thread: hands the listening sockets over. */
    void sendListeners(List<Supervisor.Handoff> handoffs) throws IOException {
        ControlSocket socket = peer;
        if (socket == null) {
            throw new IOException("the new supervisor is not connected");
        }
        socket.sendWithFds(new ControlMessage(MessageType.LISTENERS, handoffs.stream().map(Supervisor.Handoff::address).toList()),
                handoffs.stream().mapToInt(Supervisor.Handoff::fd).toArray());
    }

    private static void closeQuietly(int fd) {
        try {
            Posix.close(fd);
        } catch (NativeException e) {
            // closing at the end of the upgrade: nothing left to do with it
        }
    }

    @Override
    public void close() {
        closed = true;
        Posix.shutdown(fd);
        ControlSocket socket = peer;
        if (socket != null) {
            socket.shutdown();
        }
        try {
            Files.deleteIfExists(socketPath);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a leftover empty directory in /tmp
        }
    }
}
