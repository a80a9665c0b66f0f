package io.prefork.supervisor.admin;

import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.net.Acceptor;
import io.prefork.supervisor.net.BindAddress;
import io.prefork.supervisor.net.UnixSocketFiles;
import io.prefork.unix.Fds;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BiFunction;
import jnr.unixsocket.UnixServerSocketChannel;

/**
 * The admin endpoints on a Unix socket ({@code --admin-bind unix:PATH}), which the JDK's HttpServer
 * cannot bind: one GET per connection, answered as HTTP/1.0 with Connection: close. What
 * {@code curl --unix-socket} and kubelet-style exec probes need, and no more. A request head must
 * arrive within a few seconds and fit in 8 KiB; past 64 waiting connections, the oldest is dropped.
 */
public final class UnixHttpServer implements AutoCloseable {
    private static final int MAX_HEAD = 8192;
    private static final int MAX_PENDING = 64;
    private static final Duration READ_DEADLINE = Duration.ofSeconds(5);

    private final Path path;
    private final Object fileKey;
    private final UnixServerSocketChannel server;
    private final BiFunction<String, String, AdminHttp.Response> routes;
    private final PendingConnections pending = new PendingConnections(MAX_PENDING, READ_DEADLINE,
            "prefork-admin-http-deadline");

    private UnixHttpServer(Path path, UnixServerSocketChannel server, BiFunction<String, String, AdminHttp.Response> routes) {
        this.path = path;
        this.fileKey = UnixSocketFiles.fileKey(path);
        this.server = server;
        this.routes = routes;
    }

    static UnixHttpServer start(BindAddress bind, boolean replaceLive, BiFunction<String, String, AdminHttp.Response> routes,
                                Acceptor acceptor)
            throws IOException {
        Path path = Path.of(bind.unixPath());
        UnixHttpServer http = new UnixHttpServer(path, UnixSocketFiles.bindPrivate(path, replaceLive, MAX_PENDING), routes);
        Daemons.start("prefork-admin-http-accept", () -> http.acceptLoop(acceptor));
        return http;
    }

    /** Owns the listening socket: close() only wakes it, and it closes the socket on its way out. */
    private void acceptLoop(Acceptor acceptor) {
        try {
            pending.acceptEach(server, acceptor, "prefork-admin-http", this::serve);
        } catch (IOException e) {
            // closed
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            String head = readHead(client);
            pending.done(client);
            String[] requestLine = head == null ? new String[0] : head.split("\r?\n", 2)[0].split(" ");
            AdminHttp.Response r = requestLine.length == 3 && requestLine[2].startsWith("HTTP/")
                    ? routes.apply(requestLine[0], requestLine[1].split("\\?", 2)[0])
                    : AdminHttp.Response.text(400, "bad request");
            byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
            boolean head0 = requestLine.length > 0 && requestLine[0].equals("HEAD");
            String headers = "HTTP/1.0 " + r.status() + " " + reason(r.status()) + "\r\n"
                    + "Content-Type: " + r.contentType() + "\r\nContent-Length: " + body.length
                    + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
            client.write(ByteBuffer.wrap(headers.getBytes(StandardCharsets.US_ASCII)));
            if (!head0) {
                ByteBuffer out = ByteBuffer.wrap(body);
                while (out.hasRemaining()) {
                    client.write(out);
                }
            }
        } catch (IOException e) {
            // the client went away or was too slow: nothing to answer
        } finally {
            pending.done(client);
        }
    }

    /** The request head, up to the blank line; null if the client closed first or sent too much. */
    private static String readHead(SocketChannel client) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(1024);
        while (head.size() < MAX_HEAD) {
            buf.clear();
            if (client.read(buf) < 0) {
                return null;
            }
            head.write(buf.array(), 0, buf.position());
            String text = head.toString(StandardCharsets.ISO_8859_1);
            if (text.contains("\r\n\r\n") || text.contains("\n\n")) {
                return text;
            }
        }
        return null;
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 500 -> "Internal Server Error";
            default -> "Service Unavailable";
        };
    }

    @Override
    public void close() {
        try {
            Fds.shutdown(server.getFD());
            UnixSocketFiles.deleteIfOurs(path, fileKey);
        } catch (IOException e) {
            // exiting anyway
        }
        pending.close();
    }
}
