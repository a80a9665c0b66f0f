package io.prefork.supervisor.admin;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class PendingConnectionsTest {
    @TempDir
    Path dir;

    /** What the client sees: end of stream (a read that does not block returns -1, not 0). */
    private static boolean hungUp(SocketChannel client) throws java.io.IOException {
        client.configureBlocking(false);
        return client.read(java.nio.ByteBuffer.allocate(1)) < 0;
    }

    @Test
    void theOldestIsPushedOutAndTheSlowOnesExpire() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
             PendingConnections pending = new PendingConnections(2, Duration.ofMillis(300), "test-deadline")) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("s.sock")));
            List<SocketChannel> clients = new ArrayList<>();
            List<SocketChannel> accepted = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                clients.add(SocketChannel.open(server.getLocalAddress()));
                accepted.add(server.accept());
                pending.add(accepted.get(i));
            }
            assertTrue(hungUp(clients.get(0)), "the oldest made room for the third");
            assertFalse(hungUp(clients.get(1)) || hungUp(clients.get(2)));
            pending.done(accepted.get(2));  // its request arrived: no deadline any more
            Thread.sleep(600);
            assertTrue(hungUp(clients.get(1)), "silent past the deadline");
            assertFalse(hungUp(clients.get(2)), "done in time");
            assertTrue(accepted.get(1).isOpen(), "the fd is its serving thread's to close");
            for (SocketChannel c : clients) {
                c.close();
            }
            for (SocketChannel c : accepted) {
                c.close();
            }
        }
    }
}
