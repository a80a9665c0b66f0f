package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import io.prefork.unix.Fds;
import io.prefork.unix.Sockets;
import io.prefork.unix.SocketActivity;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel-truth drain, on this very process: an accepted connection counts the moment accept()
 * returns, before any server registers it; outbound connections never count; idleness follows the
 * traffic of each connection.
 */
@Timeout(30)
class AcceptedConnectionsTest {
    @TempDir
    Path dir;

    /** A listening TCP socket bound natively, as the supervisor binds them, and its identity. */
    private record Listener(int fd, ServerSocketChannel channel, InetSocketAddress address) implements AutoCloseable {
        String identity() {
            return ProcSelf.identity(fd);
        }

        @Override
        public void close() throws Exception {
            channel.close();
            Fds.close(fd);
        }
    }

    private static Listener tcpListener(InetAddress host) throws Exception {
        int fd = Sockets.tcpSocket(host.getAddress().length == 4 ? Linux.AF_INET : Linux.AF_INET6);
        Sockets.bind(fd, new InetSocketAddress(host, 0), "test");
        Sockets.listen(fd, 8, "test");
        return new Listener(fd, new ReceivedListener(1, "test", fd).channel(), Sockets.localInetAddress(fd));
    }

    private static AcceptedConnections watching(String... identities) {
        return AcceptedConnections.of(Set.of(identities));
    }

    @Test
    void aConnectionCountsFromTheMomentAcceptReturnsUntilItIsClosed() throws Exception {
        try (Listener listener = tcpListener(InetAddress.getLoopbackAddress());
             SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", listener.address().getPort()))) {
            AcceptedConnections connections = watching(listener.identity());
            assertEquals(List.of(), connections.held(), "queued, not yet accepted: not this worker's");
            SocketChannel accepted = listener.channel().accept(); // taken, registered with nothing
            List<AcceptedConnections.Held> held = connections.held();
            assertEquals(1, held.size(), "the accepted connection: " + held);
            assertTrue(held.get(0).tcp());
            assertEquals(ProcSelf.socketInode(ProcSelf.identity(held.get(0).fd())), held.get(0).inode());
            assertFalse(connections.awaitClosed(Duration.ofMillis(50)), "held: the drain waits");

            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return connections.awaitClosed(Duration.ofSeconds(20));
                } catch (InterruptedException e) {
                    return false;
                }
            });
            Thread.sleep(200);
            assertFalse(drained.isDone(), "still waiting while the connection is open");
            accepted.close();
            assertTrue(drained.get(), "done once the connection closed");
        }
    }

    @Test
    void theAppsOwnOutboundConnectionsNeverHoldTheDrain() throws Exception {
        try (Listener ours = tcpListener(InetAddress.getLoopbackAddress());
             ServerSocketChannel database = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             SocketChannel pool = SocketChannel.open(database.getLocalAddress());
             SocketChannel databaseSide = database.accept()) {
            AcceptedConnections connections = watching(ours.identity());
            assertEquals(List.of(), connections.held(), "an outbound connection and a foreign listener's connection");
            assertTrue(connections.awaitClosed(Duration.ofSeconds(5)));
        }
    }

    @Test
    void aWildcardListenerCountsConnectionsToAnyOfItsAddresses() throws Exception {
        try (Listener any = tcpListener(InetAddress.getByName("0.0.0.0"));
             SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", any.address().getPort()));
             SocketChannel accepted = any.channel().accept()) {
            assertEquals(1, watching(any.identity()).held().size());
        }
    }

    @Test
    void unixConnectionsCountByTheListenersPath() throws Exception {
        Path path = dir.resolve("app.sock");
        jnr.unixsocket.UnixServerSocketChannel unix = io.prefork.unix.UnixSockets.listen(path.toString(), 8);
        int fd = unix.getFD();
        try (ServerSocketChannel listener = new ReceivedListener(1, "unix:" + path, fd).channel();
             SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(path));
            AcceptedConnections connections = watching(ProcSelf.identity(fd));
            assertEquals(List.of(), connections.held(), "the client's own end is not an accepted connection");
            try (SocketChannel accepted = listener.accept()) {
                List<AcceptedConnections.Held> held = connections.held();
                assertEquals(1, held.size(), "the accepted end: " + held);
                assertFalse(held.get(0).tcp());
            }
            assertEquals(List.of(), connections.held());
        } finally {
            unix.close();
        }
    }

    @Test
    void aConnectionIsEndedOnceItsAnswerWentOutAndNotWhileARequestIsPending() throws Exception {
        try (Listener listener = tcpListener(InetAddress.getLoopbackAddress());
             SocketChannel client = SocketChannel.open(new InetSocketAddress("127.0.0.1", listener.address().getPort()));
             SocketChannel accepted = listener.channel().accept()) {
            AcceptedConnections connections = watching(listener.identity());
            assertEquals(1, connections.closeWhenIdle(Duration.ZERO), "nothing arrived yet: its request is on the way");

            client.write(ascii("GET / HTTP/1.1\r\n\r\n"));
            assertEquals(1, connections.closeWhenIdle(Duration.ZERO), "a request arrived (or is arriving), unread");
            ByteBuffer request = ByteBuffer.allocate(100);
            while (request.position() < 18) {
                accepted.read(request);
            }
            assertEquals(1, connections.closeWhenIdle(Duration.ZERO), "read, not answered");

            accepted.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
            assertEquals(0, connections.closeWhenIdle(Duration.ofSeconds(5)), "answered: it waits for its client, and is ended");
            ByteBuffer answer = ByteBuffer.allocate(100);
            int n;
            while ((n = client.read(answer)) > 0) {
                // the answer, then end of stream
            }
            assertEquals(-1, n, "the client sees the connection end after its answer");
            assertTrue(new String(answer.array(), 0, answer.position(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
        }
    }

    @Test
    void aRequestThatArrivedInTheSameTickAsTheLastAnswerIsSeenByComparingTwoReadings() {
        // last_data_sent and last_data_recv equal: the times cannot tell which came first
        SocketActivity answered = new SocketActivity(40, 40, 100, 500, 0, 0);
        assertTrue(answered.idle());
        SocketActivity nextRequestRead = new SocketActivity(48, 48, 180, 500, 0, 0);
        assertTrue(nextRequestRead.idle(), "one reading alone takes the tie as answered");
        assertFalse(nextRequestRead.idleSince(answered), "80 bytes came in, nothing went out: a request in flight");
        SocketActivity nextAnswered = new SocketActivity(52, 52, 180, 900, 0, 0);
        assertTrue(nextAnswered.idleSince(answered), "an answer went out too");
        assertFalse(new SocketActivity(8, 8, 100, 0, 0, 0).idle(), "a first request read, nothing ever sent");
        assertFalse(new SocketActivity(8, 8, 0, 0, 0, 0).idle(), "nothing arrived yet");
        assertFalse(new SocketActivity(0, 8, 100, 500, 0, 30).idle(), "unread bytes");
        assertFalse(new SocketActivity(0, 8, 100, 500, 10, 0).idle(), "an answer still being sent");
        assertFalse(new SocketActivity(12, 4, 100, 500, 0, 0).idle(), "a request after the last answer");
    }

    @Test
    void tcpTablesMatchExactAddressesAndWildcardPortsIncludingV4MappedOnes() {
        AcceptedConnections c = new AcceptedConnections(Set.of(100L, 200L));
        String tcp = """
                  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1
                   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 101 1
                   2: 0100007F:D432 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 102 1
                   3: 0200007F:1F90 0100007F:D433 01 00000000:00000000 00:00000000 00000000     0        0 103 1
                """;
        String tcp6 = """
                  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 200 1
                   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:E000 01 00000000:00000000 00:00000000 00000000     0        0 201 1
                """;
        assertEquals(Set.of(101L, 201L), c.acceptedTcp(tcp + tcp6, Set.of(100L, 101L, 102L, 103L, 200L, 201L)),
                "101 on 127.0.0.1:8080 and 201 on [::]:80; not 102 (outbound), not 103 (127.0.0.2:8080)");
        assertEquals(Set.of(), c.acceptedTcp(tcp + tcp6, Set.of(100L, 200L)), "connections of other processes");
        String listenersGone = (tcp + tcp6).lines().filter(l -> !l.contains(" 0A ")).collect(Collectors.joining("\n"));
        assertEquals(Set.of(101L, 201L), c.acceptedTcp(listenersGone, Set.of(101L, 102L, 103L, 201L)),
                "once nobody holds the listeners their rows are gone; the addresses seen before still match");
        assertEquals(Set.of(), new AcceptedConnections(Set.of(100L, 200L)).acceptedTcp(listenersGone, Set.of(101L, 201L)),
                "never having seen them, nothing can match: learnListeners() reads them before a withdrawal");
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }
}
