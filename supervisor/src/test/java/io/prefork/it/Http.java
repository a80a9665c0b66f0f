package io.prefork.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A tiny HTTP/1.1 client (one request per connection) over TCP or a Unix socket, so tests need no
 * dependency and can reach unix: listeners. Every call has a deadline.
 */
final class Http {
    record Response(int status, Map<String, String> headers, String body) {
        long workerPid() {
            return Long.parseLong(headers.get("x-worker-pid"));
        }
    }

    private static final ExecutorService IO = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "http-test-client");
        t.setDaemon(true);
        return t;
    });

    private Http() {
    }

    static Response get(int port, String path) throws IOException {
        return get(new InetSocketAddress("127.0.0.1", port), path, Duration.ofSeconds(20));
    }

    static Response get(SocketAddress address, String path, Duration timeout) throws IOException {
        Future<Response> f = IO.submit(() -> exchange(address, path));
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("no response from " + address + path + " within " + timeout.toMillis() + " ms");
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Sends one request on its own thread; the future fails if the connection dies. */
    static java.util.concurrent.CompletableFuture<Response> inFlight(int port, String path) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return get(new InetSocketAddress("127.0.0.1", port), path, Duration.ofSeconds(90));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, IO);
    }

    static SocketAddress unix(Path path) {
        return UnixDomainSocketAddress.of(path);
    }

    private static Response exchange(SocketAddress address, String path) throws IOException {
        try (SocketChannel ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open()) {
            ch.connect(address);
            String request = "GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (ch.read(buf) >= 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return parse(out.toString(StandardCharsets.ISO_8859_1));
        }
    }

    private static Response parse(String raw) throws IOException {
        int end = raw.indexOf("\r\n\r\n");
        if (!raw.startsWith("HTTP/1.") || end < 0) {
            throw new IOException("not an HTTP response: '" + raw + "'");
        }
        String[] lines = raw.substring(0, end).split("\r\n");
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new Response(Integer.parseInt(lines[0].split(" ")[1]), headers, raw.substring(end + 4));
    }
}
