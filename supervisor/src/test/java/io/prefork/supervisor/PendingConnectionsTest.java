package io.prefork.supervisor;

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
            assertFalse(accepted.get(0).isOpen(), "the oldest made room for the third");
            assertTrue(accepted.get(1).isOpen() && accepted.get(2).isOpen());
            pending.done(accepted.get(2));  // its request arrived: no deadline any more
            Thread.sleep(600);
            assertFalse(accepted.get(1).isOpen(), "silent past the deadline");
            assertTrue(accepted.get(2).isOpen(), "done in time");
            for (SocketChannel c : clients) {
                c.close();
            }
            accepted.get(2).close();
        }
    }
}
