package io.prefork.supervisor.admin;

import io.prefork.posix.Users;
import io.prefork.supervisor.AdminCommand;
import io.prefork.supervisor.AdminReply;
import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.Event;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.net.Acceptor;
import io.prefork.supervisor.net.UnixSocketFiles;
import io.prefork.unix.Fds;
import io.prefork.unix.UnixSockets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;

/**
 * The admin socket behind {@code prefork ctl}: a Unix socket of mode 0600 (0660 with
 * {@code --admin-group}), separate from the workers' control socket. One command line in; the
 * reply's text, then {@code OK} or {@code ERROR <reason>} as the last line. The loop thread does the
 * work; this only carries words. A command must arrive within {@link #COMMAND_DEADLINE} and fit
 * in {@link #MAX_COMMAND} bytes, and at most {@link #MAX_PENDING} connections wait for theirs.
 * Members of the admin group who are not the supervisor's user (or root) may only read.
 */
public final class AdminServer implements AutoCloseable {
    static final int MAX_COMMAND = 1024;
    static final int MAX_PENDING = 64;
    static final Duration COMMAND_DEADLINE = Duration.ofSeconds(5);

    private final Path path;
    private final Object fileKey;
    private final UnixServerSocketChannel server;
    private final Consumer<Event> sink;
    private final Log log;
    private final PendingConnections pending = new PendingConnections(MAX_PENDING, COMMAND_DEADLINE,
            "prefork-admin-deadline");
    private volatile boolean closed;

    private AdminServer(Path path, UnixServerSocketChannel server, Consumer<Event> sink, Log log) {
        this.path = path;
        this.fileKey = UnixSocketFiles.fileKey(path);
        this.server = server;
        this.sink = sink;
        this.log = log;
    }

    /**
     * @param group       null, or a group whose members may run the read-only commands
     * @param replaceLive take the path over from a live server (the old supervisor, in an upgrade)
     */
    public static AdminServer start(Path path, String group, boolean replaceLive, Consumer<Event> sink, Log log)
            throws IOException {
        UnixServerSocketChannel server = UnixSocketFiles.bindPrivate(path, replaceLive, MAX_PENDING);
        if (group != null) {
            try {
                GroupPrincipal principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
                Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(principal);
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            } catch (IOException e) {
                server.close();
                Files.deleteIfExists(path);
                throw e;
            }
        }
        AdminServer admin = new AdminServer(path, server, sink, log);
        Daemons.start("prefork-admin-accept", admin::acceptLoop);
        return admin;
    }

    public Path path() {
        return path;
    }

    /** Owns the listening socket: close() only wakes it, and it closes the socket on its way out. */
    private void acceptLoop() {
        try {
            pending.acceptEach(server, new Acceptor("admin", log), "prefork-admin", this::serve);
        } catch (IOException e) {
            if (!closed) {
                log.error("admin: accept failed: " + e.getMessage());
            }
        }
    }

    private void serve(UnixSocketChannel client) {
        try (client) {
            String line = readLine(client);
            pending.done(client);
            if (line == null || line.isBlank()) {
                return;
            }
            List<String> words = Arrays.asList(line.trim().split("\\s+"));
            AdminReply r = mayRun(client, words.get(0)) ? ask(words) : AdminReply.error(
                    "'" + words.get(0) + "' needs the supervisor's user; the admin group may run: " + AdminCommand.words(true));
            String text = r.text().isEmpty() || r.text().endsWith("\n") ? r.text() : r.text() + "\n";
            String answer = r.ok() ? text + "OK\n" : "ERROR " + r.text().strip() + "\n";
            ByteBuffer out = ByteBuffer.wrap(answer.getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                client.write(out);
            }
        } catch (IOException e) {
            // the client left, was too slow, was pushed out by newer ones, or sent too much: nothing to answer
        } finally {
            pending.done(client);
        }
    }

    private AdminReply ask(List<String> words) {
        CompletableFuture<AdminReply> reply = new CompletableFuture<>();
        sink.accept(new Event.AdminRequest(words.get(0), words.subList(1, words.size()), reply));
        return reply.join();
    }

    /** The supervisor's own user and root may run anything; others (the admin group) only read. */
    private boolean mayRun(UnixSocketChannel client, String command) {
        if (AdminCommand.parse(command).map(AdminCommand::readOnly).orElse(false)) {
            return true;
        }
        try {
            int uid = UnixSockets.peer(client).uid();
            return uid == Users.effectiveUid() || uid == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static String readLine(SocketChannel client) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer chunk = ByteBuffer.allocate(256);
        while (line.size() <= MAX_COMMAND) {
            chunk.clear();
            if (client.read(chunk) < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            for (int i = 0; i < chunk.position(); i++) {
                if (chunk.get(i) == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(chunk.get(i));
            }
        }
        throw new IOException("admin command longer than " + MAX_COMMAND + " bytes");
    }

    /**
     * Stops serving and leaves the socket file: in an upgrade the new supervisor renames its own over
     * it. Removing it here, even only "if still ours", races that rename (checked ours, then the new
     * one's renamed in, then removed): the new supervisor's admin socket would be gone.
     */
    public void handOver() {
        closed = true;
        Fds.shutdown(server.getFD());
        pending.close();
    }

    /** Stops serving and removes the socket file, unless another (an upgrade's) has taken its place. */
    @Override
    public void close() throws IOException {
        handOver();
        UnixSocketFiles.deleteIfOurs(path, fileKey);
    }
}
