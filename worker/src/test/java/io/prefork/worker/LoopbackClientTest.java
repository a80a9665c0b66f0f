package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The warm-up's HTTP client against a scripted loopback server: one keep-alive connection per
 * thread for every way an answer can end (a length, chunks, the connection's end), a new connection
 * only when the server closes one, and nothing left open after {@code finished()}.
 */
@Timeout(30)
class LoopbackClientTest {
    /** A server that answers each request on a connection with the next of its scripted answers. */
    private final class Server implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();
        final BlockingQueue<String> closed = new LinkedBlockingQueue<>();
        private final Thread acceptor;

        /**
         * Each answer is sent whole; "CLOSE" instead of an answer closes the connection unanswered, and
         * "ONCE " before one closes the connection after it without a "Connection: close".
         */
        Server(List<String> answers) throws IOException {
            AtomicInteger next = new AtomicInteger();
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        connections.incrementAndGet();
                        Thread t = new Thread(() -> serve(s, answers, next));
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void serve(Socket s, List<String> answers, AtomicInteger next) {
            try (s) {
                InputStream in = s.getInputStream();
                while (true) {
                    String request = readHead(in);
                    if (request == null) {
                        closed.add("eof");
                        return;
                    }
                    requests.add(request);
                    String answer = answers.get(Math.min(next.getAndIncrement(), answers.size() - 1));
                    if (answer.equals("CLOSE")) {
                        return;
                    }
                    boolean once = answer.startsWith("ONCE ");  // closes after it without saying so
                    s.getOutputStream().write(answer.substring(once ? 5 : 0).getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    if (once || answer.contains("Connection: close") || !answer.contains("Content-Length")
                            && !answer.contains("chunked") && !answer.startsWith("HTTP/1.1 204")) {
                        return;
                    }
                }
            } catch (IOException e) {
                closed.add("error: " + e);
            }
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            String s = head.toString(StandardCharsets.ISO_8859_1);
            if (s.endsWith("\r\n\r\n")) {
                return s;
            }
        }
        return null;
    }

    private final List<AutoCloseable> opened = new ArrayList<>();

    private Server server(String... answers) throws IOException {
        Server s = new Server(List.of(answers));
        opened.add(s);
        return s;
    }

    private WarmUp client(Server s) {
        WarmUp c = WarmUp.overLoopback(s::port);
        opened.add(c::finished);
        return c;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    @Test
    void answersWithALengthShareOneConnectionAndCarryTheHostAClientOfThatAddressSends() throws Exception {
        Server s = server(OK);
        WarmUp c = client(s);
        for (int i = 0; i < 3; i++) {
            c.request("/a?b=" + i);
        }
        assertEquals(1, s.connections.get(), "one keep-alive connection for three requests");
        assertEquals(3, s.requests.size());
        assertEquals("GET /a?b=2 HTTP/1.1\r\nHost: 127.0.0.1:" + s.port() + "\r\n\r\n", s.requests.get(2));
    }

    @Test
    void chunkedAnswersWithTrailersAndInterimAnswersAreReadToTheirEnd() throws Exception {
        Server s = server("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
                "HTTP/1.1 204 No Content\r\n\r\n", OK);
        WarmUp c = client(s);
        c.request("/");
        c.request("/");
        c.request("/");
        assertEquals(1, s.connections.get(), "each answer was read exactly to its end, or the next would not parse");
    }

    @Test
    void aConnectionTheServerClosesIsNotUsedAgain() throws Exception {
        Server s = server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                "HTTP/1.1 200 OK\r\n\r\nno length: the body ends with the connection", OK, OK);
        WarmUp c = client(s);
        c.request("/");
        c.request("/");
        c.request("/");
        c.request("/");
        assertEquals(3, s.connections.get(), "a new connection after 'Connection: close' and after a body with no length");
    }

    @Test
    void aConnectionClosedBetweenTwoRequestsIsReplacedAndTheRequestSentAgain() throws Exception {
        Server s = server(OK, "CLOSE", OK);
        WarmUp c = client(s);
        c.request("/");
        c.request("/");  // the server closes instead of answering: sent once more on a new connection
        assertEquals(2, s.connections.get());
        assertEquals(3, s.requests.size());
    }

    @Test
    void aServerThatEndsEveryConnectionWithoutSayingSoIsAskedAgainOnANewOne() throws Exception {
        Server s = server("ONCE " + OK);
        WarmUp c = client(s);
        for (int i = 0; i < 5; i++) {
            c.request("/");
        }
        // Each request after the first is written on the closed connection first, then sent again.
        assertEquals(5, s.connections.get());
        assertEquals(5, s.requests.size());
    }

    @Test
    void eachThreadHasItsOwnConnectionAndFinishedEndsThemAll() throws Exception {
        Server s = server(OK);
        WarmUp c = client(s);
        assertEquals(null, WarmUpRun.run(c, 400, "/"));
        int n = s.connections.get();  // each accepted before its first answer: final once run() returned
        // A thread that found no request left opens none; never more than one each.
        assertTrue(n > 1 && n <= WarmUpRun.CLIENTS, n + " connections for " + WarmUpRun.CLIENTS + " client threads");
        assertEquals(400 + n, s.requests.size(), "400 requests, and one to end each connection");
        assertEquals(n, s.requests.stream().filter(r -> r.contains("Connection: close")).count());
        for (int i = 0; i < n; i++) {
            assertEquals("eof", s.closed.poll(10, TimeUnit.SECONDS), "run() ends with finished(): every connection closed");
        }
    }

    @Test
    void finishedEndsAConnectionAsAClientThatIsDoneDoesAndSkipsOneTheServerClosed() throws Exception {
        Server s = server(OK, OK, "ONCE " + OK);
        WarmUp c = client(s);
        c.request("/a");
        c.finished();
        assertEquals("GET /a HTTP/1.1\r\nHost: localhost:" + s.port() + "\r\nConnection: close\r\n\r\n", s.requests.get(1),
                "the last request: Connection: close, and the Host by name");
        assertEquals("eof", s.closed.poll(10, TimeUnit.SECONDS));

        c.request("/b");  // answered, and the server closes the connection without saying so
        c.finished();  // nothing to end: no failure
        assertEquals(3, s.requests.size(), "no closing request on a connection the server closed");
    }

    @Test
    void somethingThatIsNotHttpIsAFailureThatSaysWhatCame() throws Exception {
        Server s = server("SSH-2.0-OpenSSH\r\n\r\n");
        WarmUp c = client(s);
        IOException e = assertThrows(IOException.class, () -> c.request("/"));
        assertTrue(e.getMessage().contains("not an HTTP/1.x answer: SSH-2.0-OpenSSH"), e.getMessage());
        String failure = WarmUpRun.run(client(s), 5, "/");
        assertTrue(failure != null && failure.contains("not an HTTP/1.x answer"), failure);
    }
}
