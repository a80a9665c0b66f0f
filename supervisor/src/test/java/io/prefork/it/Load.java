package io.prefork.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady HTTP load on loopback for the "under load" tests: some threads keep one connection alive
 * across requests (reconnecting only after the server's Connection: close), others open a new
 * connection per request. Each thread paces itself to {@code rpsPerThread}. Every failure is kept
 * with its reason: connect error, reset or early close, timeout, or a non-2xx status.
 */
final class Load implements AutoCloseable {
    /**
     * A failed request: when, why, the client's local port (0 if it never connected), and whether it
     * was sent on a kept-alive connection.
     */
    record Failure(long atNanos, String what, int localPort, boolean keepAlive) {
    }

    private final int port;
    private final String path;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong ok = new AtomicLong();
    private final List<Failure> failures = new ArrayList<>();
    /** Response bodies seen, with the last time each was seen. */
    final Map<String, Long> bodies = new ConcurrentHashMap<>();
    final Map<Long, Long> pidsLastSeen = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final long startedAt = System.nanoTime();
    /** The last successful answer, and the longest time without one so far (System.nanoTime()). */
    private long lastOkAt = System.nanoTime();
    private long longestGap;
    /** Successful requests by second since the start. */
    private final Map<Long, AtomicLong> okBySecond = new ConcurrentHashMap<>();

    private Load(int port, String path) {
        this.port = port;
        this.path = path;
    }

    static Load start(int port, int keepAliveThreads, int newConnectionThreads, int rpsPerThread) {
        Load load = new Load(port, "/");
        for (int i = 0; i < keepAliveThreads + newConnectionThreads; i++) {
            boolean keepAlive = i < keepAliveThreads;
            Thread t = new Thread(() -> load.loop(keepAlive, rpsPerThread), "load-" + (keepAlive ? "keepalive-" : "new-") + i);
            t.setDaemon(true);
            load.threads.add(t);
            t.start();
        }
        return load;
    }

    private void loop(boolean keepAlive, int rps) {
        long interval = 1_000_000_000L / rps;
        long next = System.nanoTime();
        Socket socket = null;
        while (running.get()) {
            next += interval;
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.setSoTimeout(10_000);
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                }
                boolean serverCloses = exchange(socket, keepAlive);
                if (!keepAlive || serverCloses) {
                    socket.close();
                    socket = null;
                }
            } catch (IOException e) {
                fail(e.getClass().getSimpleName() + ": " + e.getMessage(), socket == null ? 0 : socket.getLocalPort(), keepAlive);
                closeQuietly(socket);
                socket = null;
            }
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                RunningSupervisor.pause(sleep / 1_000_000);
            } else {
                next = System.nanoTime();
            }
        }
        closeQuietly(socket);
    }

    /** One request on the socket; returns true if the server said it closes the connection. */
    private boolean exchange(Socket socket, boolean keepAlive) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = new BufferedInputStream(socket.getInputStream());
        String status = line(in);
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        long length = -1;
        boolean closes = false;
        long pid = 0;
        String header;
        while ((header = line(in)) != null && !header.isEmpty()) {
            String h = header.toLowerCase(Locale.ROOT);
            if (h.startsWith("content-length:")) {
                length = Long.parseLong(h.substring(15).trim());
            } else if (h.startsWith("connection:") && h.contains("close")) {
                closes = true;
            } else if (h.startsWith("x-worker-pid:")) {
                pid = Long.parseLong(h.substring(13).trim());
            }
        }
        if (length < 0) {
            throw new IOException("no Content-Length in the response: " + status);
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
            throw new IOException("response body cut short");
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        if (code < 200 || code > 299) {
            fail("HTTP " + code, socket.getLocalPort(), keepAlive);
        } else {
            ok.incrementAndGet();
            long now = System.nanoTime();
            answeredAt(now);
            okBySecond.computeIfAbsent((now - startedAt) / 1_000_000_000L, s -> new AtomicLong()).incrementAndGet();
            bodies.put(new String(body, StandardCharsets.UTF_8), now);
            pidsLastSeen.put(pid, now);
        }
        return closes;
    }

    private synchronized void answeredAt(long now) {
        longestGap = Math.max(longestGap, now - lastOkAt);
        lastOkAt = now;
    }

    /** The longest time, in ms, from the start until now, in which no request was answered. */
    synchronized long longestGapMillis() {
        return Math.max(longestGap, System.nanoTime() - lastOkAt) / 1_000_000;
    }

    /** One line of the response head; the stream is read byte by byte so no body byte is lost. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    private void fail(String what, int localPort, boolean keepAlive) {
        synchronized (failures) {
            failures.add(new Failure(System.nanoTime(), what, localPort, keepAlive));
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            if (s != null) {
                s.close();
            }
        } catch (IOException e) {
            // closing a broken socket: nothing to report beyond the failure already counted
        }
    }

    long ok() {
        return ok.get();
    }

    List<Failure> failures() {
        synchronized (failures) {
            return List.copyOf(failures);
        }
    }

    /** Successful requests in each whole second since the start, up to now (a second with none is 0). */
    long[] okPerSecond() {
        long seconds = (System.nanoTime() - startedAt) / 1_000_000_000L;
        long[] counts = new long[(int) seconds];
        for (int i = 0; i < counts.length; i++) {
            AtomicLong n = okBySecond.get((long) i);
            counts[i] = n == null ? 0 : n.get();
        }
        return counts;
    }

    /** Successful requests per second so far. */
    double rate() {
        return ok.get() / ((System.nanoTime() - startedAt) / 1e9);
    }

    /** Waits until {@code body} has been answered at least once after now. */
    boolean awaitBody(String body, java.time.Duration timeout) {
        long since = System.nanoTime();
        long deadline = since + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long seen = bodies.get(body);
            if (seen != null && seen > since) {
                return true;
            }
            RunningSupervisor.pause(20);
        }
        return false;
    }

    /** Waits until worker {@code pid} has answered a request. */
    boolean awaitPid(long pid, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pidsLastSeen.containsKey(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            RunningSupervisor.pause(20);
        }
        return true;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(20_000);
        }
    }

    String summary() {
        return String.format("%d ok, %d failed, %.0f req/s", ok(), failures().size(), rate());
    }
}
