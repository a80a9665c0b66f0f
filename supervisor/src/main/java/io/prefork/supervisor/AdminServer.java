package io.prefork.supervisor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The admin socket behind {@code prefork ctl}: a Unix socket of mode 0600, separate from the
 * workers' control socket. One command line in; the reply's text, then {@code OK} or
 * {@code ERROR <reason>} as the last line. The loop thread does the work; this only carries words.
 */
final class AdminServer implements AutoCloseable {
    private static final int MAX_COMMAND = 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Consumer<Event> sink;
    private final Log log;

    private AdminServer(Path path, ServerSocketChannel server, Consumer<Event> sink, Log log) {
        this.path = path;
        this.server = server;
        this.sink = sink;
        this.log = log;
    }

    static AdminServer start(Path path, Consumer<Event> sink, Log log) throws IOException {
        ServerSocketChannel server = UnixSocketFiles.bindPrivate(path);
        AdminServer admin = new AdminServer(path, server, sink, log);
        Thread acceptor = new Thread(admin::acceptLoop, "prefork-admin-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return admin;
    }

    Path path() {
        return path;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread t = new Thread(() -> serve(client), "prefork-admin");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.error("admin: accept failed: " + e.getMessage());
                }
                return;
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            String line = readLine(client);
            if (line == null || line.isBlank()) {
                return;
            }
            List<String> words = Arrays.asList(line.trim().split("\\s+"));
            CompletableFuture<AdminReply> reply = new CompletableFuture<>();
            sink.accept(new Event.AdminRequest(words.get(0), words.subList(1, words.size()), reply));
            AdminReply r = reply.join();
            String text = r.text().isEmpty() || r.text().endsWith("\n") ? r.text() : r.text() + "\n";
            String answer = r.ok() ? text + "OK\n" : "ERROR " + r.text().strip() + "\n";
            client.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            log.warn("admin: " + e.getMessage());
        }
    }

    private static String readLine(SocketChannel client) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(256);
        while (line.size() <= MAX_COMMAND) {
            one.clear();
            if (client.read(one) < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            for (int i = 0; i < one.position(); i++) {
                if (one.get(i) == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(one.get(i));
            }
        }
        throw new IOException("admin command longer than " + MAX_COMMAND + " bytes");
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
