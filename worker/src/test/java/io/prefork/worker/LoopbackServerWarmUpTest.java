package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link WarmUp#onLoopbackServer}: the app's server is opened once, at the first request, and closed once, after the last. */
@Timeout(30)
class LoopbackServerWarmUpTest {
    /** A keep-alive HTTP/1.1 server on loopback, a thread per connection; counts opens, closes and requests. */
    private static final class CountingServer implements WarmUp.LoopbackServer {
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger requests = new AtomicInteger();
        private ServerSocket socket;

        @Override
        public int open() throws IOException {
            opened.incrementAndGet();
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = socket.accept();
                        Thread t = new Thread(() -> serve(s));
                        t.setDaemon(true);
                        t.start();
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            return socket.getLocalPort();
        }

        private void serve(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                StringBuilder head = new StringBuilder();
                int c;
                while ((c = in.read()) >= 0) {
                    head.append((char) c);
                    if (head.toString().endsWith("\r\n\r\n")) {
                        requests.incrementAndGet();
                        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        head.setLength(0);
                    }
                }
            } catch (IOException e) {
                // the client closed
            }
        }

        @Override
        public void close() throws IOException {
            closed.incrementAndGet();
            socket.close();
        }
    }

    @Test
    void theServerIsOpenedOnceForManyThreadsAndClosedOnceAfterTheLast() throws Exception {
        CountingServer server = new CountingServer();
        WarmUp warmUp = WarmUp.onLoopbackServer(server);
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 8; t++) {
            Thread thread = new Thread(() -> {
                try {
                    for (int i = 0; i < 25; i++) {
                        warmUp.request("/");
                    }
                } catch (Exception e) {
                    failures.add(e);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(20));
        }
        assertEquals(List.of(), failures);
        assertEquals(200, server.requests.get());
        assertEquals(1, server.opened.get(), "opened once, at the first request");
        assertEquals(0, server.closed.get(), "still open until the warm-up is finished");
        warmUp.finished();
        assertEquals(1, server.closed.get(), "closed once the warm-up is finished");
    }

    @Test
    void aWarmUpThatSentNothingClosesNothing() throws Exception {
        CountingServer server = new CountingServer();
        WarmUp.onLoopbackServer(server).finished();
        assertEquals(0, server.opened.get());
        assertEquals(0, server.closed.get());
    }
}
