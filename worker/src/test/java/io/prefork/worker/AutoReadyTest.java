package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import io.prefork.unix.Sockets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Auto readiness reads this very process's /proc: an app thread blocked in accept, or a selector
 * holding the listener, must be seen; a listener nobody accepts on must not.
 */
@Timeout(30)
class AutoReadyTest {
    private final Set<String> sockets = ConcurrentHashMap.newKeySet();

    private ServerSocketChannel listener() throws Exception {
        int fd = Sockets.tcpSocket(Linux.AF_INET);
        Sockets.bind(fd, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "test");
        Sockets.listen(fd, 8, "test");
        sockets.add(ProcSelf.identity(fd));
        // index 1: wrapped through the JDK constructor, on a dup of fd (surefire passes the same
        // --add-opens the supervisor passes), so the app accepts on another fd number than ours.
        return new ReceivedListener(1, "127.0.0.1:0", fd).channel();
    }

    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }

    @Test
    void seesABlockingAccept() throws Exception {
        AutoReady probe = new AutoReady(null);
        try (ServerSocketChannel channel = listener()) {
            assertFalse(probe.accepting(sockets), "nobody accepts yet");
            Thread acceptor = new Thread(() -> {
                try {
                    channel.accept();
                } catch (Exception e) {
                    // closed at the end of the test
                }
            });
            acceptor.start();
            assertTrue(eventually(() -> probe.blockedInAccept(sockets)), "a thread blocked in accept() on the listener");
            channel.close();
            acceptor.join(5_000);
        }
    }

    @Test
    void seesASelectorThatHoldsTheListener() throws Exception {
        AutoReady probe = new AutoReady(null);
        try (ServerSocketChannel channel = listener(); Selector selector = Selector.open()) {
            assertFalse(probe.accepting(sockets));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_ACCEPT);
            selector.selectNow();
            assertTrue(eventually(() -> probe.inEpollSet(sockets)), "the listener in an epoll set");
            assertFalse(probe.blockedInAccept(sockets));
        }
    }
}
