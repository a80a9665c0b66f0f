package io.prefork.worker;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Warm-up requests as clients send them: HTTP/1.1 GETs over loopback on keep-alive connections, one
 * per calling thread, with the Host a client of that address sends. A warm-up that differs from real
 * traffic (a new connection per request, one at a time, another Host) leaves code paths the JIT has
 * never seen, and the first real requests pay for them with deoptimizations and recompiles. Each
 * connection ends as a client that is done ends it: one more GET, with {@code Connection: close} and
 * the Host by name ({@code localhost:port}), so that a server's parsing of both (Tomcat loads classes
 * for each) has run too; a class archive trained on one request then holds what either kind of first
 * request loads.
 */
final class LoopbackClient implements WarmUp {
    private static final int TIMEOUT_MS = 10_000;
    private static final int MAX_HEAD = 64 * 1024;

    private final IntSupplier port;
    private final ThreadLocal<Connection> mine = new ThreadLocal<>();
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private volatile String lastPath;

    LoopbackClient(IntSupplier port) {
        this.port = port;
    }

    @Override
    public void request(String path) throws IOException {
        lastPath = path;
        Connection c = mine.get();
        if (c != null) {
            try {
                if (!c.get(path)) {
                    forget(c);  // answered, and the server closes the connection: the next request opens one
                }
                return;
            } catch (IOException e) {
                forget(c);
                if (c.answerStarted) {
                    throw e;
                }
                // closed between two requests (an idle timeout, a server that ends every connection
                // after one answer): no byte of an answer came, so once more on a new connection
            }
        }
        c = new Connection(port.getAsInt());
        open.add(c);
        mine.set(c);
        if (!c.get(path)) {
            forget(c);
        }
    }

    /** Ends each connection with a last request, {@code Connection: close}; then closes them all. */
    @Override
    public void finished() throws IOException {
        try {
            for (Connection c : open) {
                try {
                    c.getAndClose(lastPath);
                } catch (IOException e) {
                    if (c.answerStarted) {
                        throw e;
                    }
                    // closed by the server since its last answer (an idle timeout): nothing to end
                }
            }
        } finally {
            for (Connection c : open) {
                c.close();
            }
            open.clear();
        }
    }

    private void forget(Connection c) {
        c.close();
        open.remove(c);
        mine.remove();
    }

    /** One keep-alive connection. */
    private static final class Connection {
        private final Socket socket = new Socket();
        private final InputStream in;
        private final OutputStream out;
        private final String host;
        /** A byte of the current request's answer came: a failure now is not a connection closed before it. */
        boolean answerStarted;

        Connection(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            host = "127.0.0.1:" + port;
        }

        /** One GET, its answer read to the end; false if the server closes the connection after it. */
        boolean get(String path) throws IOException {
            return send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        }

        /** The connection's last GET, as a client that is done sends it; its answer read to the end. */
        void getAndClose(String path) throws IOException {
            send("GET " + path + " HTTP/1.1\r\nHost: localhost:" + socket.getPort() + "\r\nConnection: close\r\n\r\n");
        }

        private boolean send(String request) throws IOException {
            answerStarted = false;
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (true) {
                String head = readHead();
                int status = Integer.parseInt(head.substring(9, 12));
                if (status >= 100 && status < 200) {
                    continue;  // an interim answer; the real one follows
                }
                String h = head.toLowerCase(Locale.ROOT);
                boolean keepAlive = !h.contains("\r\nconnection: close");
                if (status == 204 || status == 304) {
                    return keepAlive;
                }
                if (h.contains("\r\ntransfer-encoding: chunked")) {
                    readChunked();
                    return keepAlive;
                }
                long length = contentLength(h);
                if (length >= 0) {
                    skip(length);
                    return keepAlive;
                }
                in.transferTo(OutputStream.nullOutputStream());  // no length: the body ends with the connection
                return false;
            }
        }

        /** The status line and headers, up to the empty line; EOF before any byte means the server closed. */
        private String readHead() throws IOException {
            StringBuilder head = new StringBuilder(256);
            int b;
            while ((b = in.read()) >= 0) {
                answerStarted = true;
                head.append((char) b);
                int n = head.length();
                if (n >= 4 && head.charAt(n - 1) == '\n' && head.charAt(n - 2) == '\r'
                        && head.charAt(n - 3) == '\n' && head.charAt(n - 4) == '\r') {
                    if (n < 12 || head.indexOf("HTTP/1.") != 0) {
                        throw new IOException("not an HTTP/1.x answer: " + head.substring(0, Math.min(n, 40)).trim());
                    }
                    return head.toString();
                }
                if (n > MAX_HEAD) {
                    throw new IOException("an answer's headers over " + MAX_HEAD + " bytes");
                }
            }
            throw new EOFException(head.length() > 0 ? "the server closed the connection in the middle of an answer"
                    : "the server closed the connection");
        }

        private static long contentLength(String lowerCaseHead) {
            int at = lowerCaseHead.indexOf("\r\ncontent-length:");
            if (at < 0) {
                return -1;
            }
            int end = lowerCaseHead.indexOf('\r', at + 2);
            return Long.parseLong(lowerCaseHead.substring(at + 17, end).trim());
        }

        private void readChunked() throws IOException {
            while (true) {
                String line = readLine();
                int semicolon = line.indexOf(';');
                long size = Long.parseLong((semicolon < 0 ? line : line.substring(0, semicolon)).trim(), 16);
                if (size == 0) {
                    while (!readLine().isEmpty()) {
                        // trailers, up to the empty line
                    }
                    return;
                }
                skip(size);
                readLine();  // the CRLF after the chunk
            }
        }

        private String readLine() throws IOException {
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                if (b != '\r') {
                    line.append((char) b);
                }
                if (line.length() > MAX_HEAD) {
                    throw new IOException("a chunk line over " + MAX_HEAD + " bytes");
                }
            }
            if (b < 0) {
                throw new IOException("the server closed the connection in the middle of an answer");
            }
            return line.toString();
        }

        private void skip(long n) throws IOException {
            try {
                in.skipNBytes(n);
            } catch (EOFException e) {
                throw new IOException("the server closed the connection in the middle of an answer");
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a loopback connection we no longer need
            }
        }
    }
}
