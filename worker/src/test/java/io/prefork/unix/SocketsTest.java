package io.prefork.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** TCP listeners, made with the minimal binding, against real sockets in this process. */
@Timeout(30)
class SocketsTest {
    private final List<Integer> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int fd : opened) {
            Fds.close(fd);
        }
    }

    private int tcpListener(String host) throws Exception {
        InetAddress ip = InetAddress.getByName(host);
        int fd = Sockets.tcpSocket(ip instanceof java.net.Inet6Address ? Linux.AF_INET6 : Linux.AF_INET);
        opened.add(fd);
        Sockets.bind(fd, new InetSocketAddress(ip, 0), host + ":0");
        Sockets.listen(fd, 16, host);
        return fd;
    }

    @Test
    void aPortZeroBindLearnsItsPortAndTakesConnections() throws Exception {
        for (String host : new String[] {"127.0.0.1", "::1"}) {
            int fd = tcpListener(host);
            InetSocketAddress bound = Sockets.localInetAddress(fd);
            assertTrue(bound.getPort() > 0);
            assertEquals(InetAddress.getByName(host), bound.getAddress());
            assertTrue(Sockets.isListeningStream(fd));
            assertEquals(host.contains(":") ? Linux.AF_INET6 : Linux.AF_INET, Sockets.family(fd));
            try (Socket client = new Socket(bound.getAddress(), bound.getPort())) {
                assertEquals(1, Sockets.listenQueue(fd)[0], "the kernel queued the connection");
                assertEquals(16, Sockets.listenQueue(fd)[1], "the backlog");
            }
            assertTrue(Fds.isCloseOnExec(fd));
        }
    }

    @Test
    void errnoBecomesAMessageThatNamesTheCall() throws Exception {
        int first = tcpListener("127.0.0.1");
        int port = Sockets.localInetAddress(first).getPort();
        int second = Sockets.tcpSocket(Linux.AF_INET);
        opened.add(second);
        NativeException e = assertThrows(NativeException.class,
                () -> Sockets.bind(second, new InetSocketAddress("127.0.0.1", port), "127.0.0.1:" + port));
        assertEquals("bind(127.0.0.1:" + port + "): Address already in use", e.getMessage());
        assertEquals(Linux.EADDRINUSE, e.errno());
        assertEquals("Address already in use", e.reason());
    }

    @Test
    void theMinimalBindingMakesNoUnixSockets() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sockets.tcpSocket(Linux.AF_UNIX));
        assertTrue(e.getMessage().contains("Unix sockets come from UnixSockets"), e.getMessage());
    }
}
