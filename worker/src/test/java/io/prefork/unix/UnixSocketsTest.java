package io.prefork.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** jnr-unixsocket, as prefork uses it, and its two traps: no SOCK_CLOEXEC, and lengths in chars. */
@Timeout(30)
class UnixSocketsTest {
    @TempDir
    Path dir;

    @Test
    void everySocketItMakesOrAcceptsIsCloseOnExec() throws Exception {
        String path = dir.resolve("c.sock").toString();
        String datagramPath = dir.resolve("d.sock").toString();
        try (UnixServerSocketChannel server = UnixSockets.listen(path, 4);
             UnixSocketChannel client = UnixSockets.connect(path);
             UnixSocketChannel accepted = UnixSockets.accept(server);
             UnixDatagramChannel receiver = UnixDatagramChannel.open().bind(new UnixSocketAddress(datagramPath));
             UnixDatagramChannel datagram = UnixSockets.connectedDatagram(datagramPath)) {
            assertTrue(Fds.isCloseOnExec(server.getFD()), "listening");
            assertTrue(Fds.isCloseOnExec(client.getFD()), "connected");
            assertTrue(Fds.isCloseOnExec(accepted.getFD()), "accepted");
            assertTrue(Fds.isCloseOnExec(datagram.getFD()), "datagram");
            assertTrue(!Fds.isCloseOnExec(receiver.getFD()), "what jnr-unixsocket gives on its own: the trap");
        }
    }

    @Test
    void aNonAsciiPathIsRefusedWithOneLine() throws Exception {
        Path nonAscii = dir.resolve("über.sock");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UnixSockets.listen(nonAscii.toString(), 4));
        assertEquals("unix socket path must be ASCII (jnr-unixsocket miscounts a non-ASCII path's length): " + nonAscii,
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> UnixSockets.connect(nonAscii.toString()));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing was bound under a truncated name");
        }
        assertNull(UnixSockets.invalidPath(dir.resolve("plain.sock").toString()));
        assertTrue(UnixSockets.invalidPath("/" + "x".repeat(107)).startsWith("unix socket path is too long"));
        assertNull(UnixSockets.invalidPath("/" + "x".repeat(106)));
    }

    @Test
    void anAbstractNameWorksAndReadsBackWithItsAt() throws Exception {
        String name = "@prefork-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (UnixServerSocketChannel server = UnixSockets.listen(name, 4);
             UnixSocketChannel client = UnixSockets.connect(name);
             UnixSocketChannel accepted = UnixSockets.accept(server)) {
            assertEquals(name, Sockets.localUnixPath(server.getFD()));
            assertEquals(ProcessHandle.current().pid(), UnixSockets.peer(accepted).pid());
            assertEquals(Linux.AF_UNIX, Sockets.family(client.getFD()));
        }
    }

    @Test
    void aShutdownWakesAThreadBlockedInAccept() throws Exception {
        String path = dir.resolve("a.sock").toString();
        try (UnixServerSocketChannel server = UnixSockets.listen(path, 4)) {
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            Thread acceptor = new Thread(() -> {
                try {
                    UnixSockets.accept(server).close();
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                }
            });
            acceptor.start();
            Fds.shutdown(server.getFD());  // before or during its accept(): either way it must end
            Throwable t = ended.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof NativeException, "accept ended with " + t);
            assertTrue(t.getMessage().startsWith("accept: "), t.getMessage());
        }
    }

    @Test
    void endOfStreamAndOverlongLines() throws Exception {
        String path = dir.resolve("l.sock").toString();
        try (UnixServerSocketChannel server = UnixSockets.listen(path, 4)) {
            ControlSocket client = ControlSocket.connect(path, FdPassing.INSTANCE);
            ControlSocket accepted = new ControlSocket(UnixSockets.accept(server), FdPassing.INSTANCE);
            try {
                accepted.send(ControlMessage.of(MessageType.STOP, "5"));
                assertEquals(ControlMessage.of(MessageType.STOP, "5"), client.receive());
                byte[] huge = ("READY " + "x".repeat(ControlMessage.MAX_LINE) + "\n").getBytes(StandardCharsets.UTF_8);
                FdPassing.INSTANCE.write(accepted.fd(), huge);
                assertThrows(ProtocolException.class, client::receive);
                ControlSocket fresh = ControlSocket.connect(path, FdPassing.INSTANCE);
                ControlSocket freshAccepted = new ControlSocket(UnixSockets.accept(server), FdPassing.INSTANCE);
                freshAccepted.shutdown();
                freshAccepted.close();
                assertNull(fresh.receive(), "EOF is null");
                fresh.close();
            } finally {
                client.close();
                accepted.close();
            }
        }
    }
}
