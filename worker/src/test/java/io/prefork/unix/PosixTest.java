package io.prefork.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.ProtocolException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The native layer against real sockets in this process. */
@Timeout(30)
class PosixTest {
    @TempDir
    Path dir;
    private final List<Integer> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int fd : opened) {
            Posix.close(fd);
        }
    }

    private int track(int fd) {
        opened.add(fd);
        return fd;
    }

    private int tcpListener(String host) throws Exception {
        InetAddress ip = InetAddress.getByName(host);
        int fd = track(Posix.socket(ip instanceof java.net.Inet6Address ? Linux.AF_INET6 : Linux.AF_INET));
        Posix.bind(fd, new InetSocketAddress(ip, 0), host + ":0");
        Posix.listen(fd, 16, host);
        return fd;
    }

    private static String link(int fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    @Test
    void aPortZeroBindLearnsItsPortAndAccepts() throws Exception {
        for (String host : new String[] {"127.0.0.1", "::1"}) {
            int fd = tcpListener(host);
            InetSocketAddress bound = Posix.localInetAddress(fd);
            assertTrue(bound.getPort() > 0);
            assertEquals(InetAddress.getByName(host), bound.getAddress());
            try (Socket client = new Socket(bound.getAddress(), bound.getPort())) {
                int accepted = track(Posix.accept(fd));
                assertTrue(link(accepted).startsWith("socket:["));
            }
        }
    }

    @Test
    void errnoBecomesAMessageThatNamesTheCall() throws Exception {
        int first = tcpListener("127.0.0.1");
        int port = Posix.localInetAddress(first).getPort();
        int second = track(Posix.socket(Linux.AF_INET));
        NativeException e = assertThrows(NativeException.class,
                () -> Posix.bind(second, new InetSocketAddress("127.0.0.1", port), "127.0.0.1:" + port));
        assertEquals("bind(127.0.0.1:" + port + "): Address already in use", e.getMessage());
        assertEquals(Linux.EADDRINUSE, e.errno());
        assertEquals("Address already in use", e.reason());
    }

    @Test
    void fdsCrossAUnixSocketAndArriveAsTheSameSocket() throws Exception {
        int listener = tcpListener("127.0.0.1");
        int server = track(Posix.socket(Linux.AF_UNIX));
        String path = dir.resolve("c.sock").toString();
        Posix.bindUnix(server, path);
        Posix.listen(server, 4, path);
        ControlSocket client = ControlSocket.connect(path);
        ControlSocket accepted = new ControlSocket(Posix.accept(server));
        try {
            accepted.sendWithFds(ControlMessage.of(MessageType.FDS, "127.0.0.1:1"), new int[] {listener});
            accepted.send(ControlMessage.of(MessageType.STOP, "5"));
            assertEquals(ControlMessage.of(MessageType.FDS, "127.0.0.1:1"), client.receive());
            List<Integer> fds = client.takeReceivedFds();
            assertEquals(1, fds.size());
            opened.add(fds.get(0));
            assertNotEquals(listener, (int) fds.get(0));
            assertEquals(link(listener), link(fds.get(0)), "same socket inode");
            assertEquals(ControlMessage.of(MessageType.STOP, "5"), client.receive());
            assertTrue(client.takeReceivedFds().isEmpty());

            PeerCredentials peer = Posix.peerCredentials(accepted.fd());
            assertEquals(ProcessHandle.current().pid(), peer.pid());
        } finally {
            client.close();
            accepted.close();
        }
    }

    @Test
    void endOfStreamAndOverlongLines() throws Exception {
        int server = track(Posix.socket(Linux.AF_UNIX));
        String path = "@prefork-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Posix.bindUnix(server, path);
        Posix.listen(server, 4, path);
        ControlSocket client = ControlSocket.connect(path);
        ControlSocket accepted = new ControlSocket(Posix.accept(server));
        try {
            byte[] huge = ("READY " + "x".repeat(ControlMessage.MAX_LINE) + "\n").getBytes(StandardCharsets.UTF_8);
            Posix.writeFully(accepted.fd(), huge, 0, huge.length);
            assertThrows(ProtocolException.class, client::receive);
            accepted.shutdown();
            ControlSocket fresh = ControlSocket.connect(path);
            ControlSocket freshAccepted = new ControlSocket(Posix.accept(server));
            freshAccepted.shutdown();
            freshAccepted.close();
            assertEquals(null, fresh.receive(), "EOF is null");
            fresh.close();
        } finally {
            client.close();
            accepted.close();
        }
    }

    @Test
    void killReportsAProcessThatIsGone() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        assertTrue(Posix.kill(p.pid(), Linux.SIGKILL));
        p.waitFor();
        assertEquals(137, p.exitValue());
        assertEquals(false, Posix.kill(p.pid(), 0));
    }
}
