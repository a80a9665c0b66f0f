package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import io.prefork.unix.Sockets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Taking the listeners from an app that knows nothing of prefork, on this very process: a thread
 * blocked in accept() and a selector watching the listener both stop accepting, and no fd of the
 * process refers to the listener any more.
 */
@Timeout(30)
class ListenerWithdrawalTest {
    private static ServerSocketChannel listener(Set<String> identities) throws Exception {
        int fd = Sockets.tcpSocket(Linux.AF_INET);
        Sockets.bind(fd, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "test");
        Sockets.listen(fd, 8, "test");
        identities.add(ProcSelf.identity(fd));
        return new ReceivedListener(1, "127.0.0.1:0", fd).channel(); // the app's own fd: a dup
    }

    private static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(5);
        }
        return false;
    }

    private static boolean anyFdIs(Set<String> identities) throws Exception {
        for (int fd : ProcSelf.fds()) {
            if (identities.contains(ProcSelf.identity(fd))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aThreadBlockedInAcceptIsWokenAndWaitsOnThePlaceholderForGood() throws Exception {
        Set<String> identities = new java.util.HashSet<>();
        AutoReady probe = new AutoReady(null);
        try (ServerSocketChannel channel = listener(identities)) {
            CompletableFuture<String> acceptor = CompletableFuture.supplyAsync(() -> {
                try {
                    return "accepted " + channel.accept();
                } catch (Exception e) {
                    return e.getClass().getSimpleName();
                }
            });
            assertTrue(eventually(() -> probe.blockedInAccept(identities)), "the app's thread blocks in accept()");
            int fds = ProcSelf.fds().size();

            assertEquals(2, ListenerWithdrawal.withdraw(identities, null), "our fd and the app's dup");
            assertFalse(anyFdIs(identities), "no fd of the process is the listener any more");
            java.util.Map<Integer, Integer> inAccept = ProcSelf.threadsInAccept();
            assertTrue(inAccept.isEmpty(), "withdraw() returns only once the acceptor has left accept() on the listener: " + inAccept);
            assertTrue(eventually(() -> {
                try {
                    return ProcSelf.threadsInAccept().isEmpty();
                } catch (Exception e) {
                    return false;
                }
            }), "the acceptor was woken out of accept() on the listener");
            assertFalse(acceptor.isDone(), "and waits on the placeholder instead: " + acceptor.getNow(""));
            assertEquals(fds, ProcSelf.fds().size(), "the placeholder's own fd is closed");
            channel.close();
            assertEquals("AsynchronousCloseException", acceptor.get(), "closing the channel still ends the wait");
        }
    }

    /**
     * The placeholder is bound in the supervisor's directory when the worker may write there: its path
     * is gone at once, and nothing is made in the temporary directory, where a worker killed in that
     * moment would leave a directory that nobody removes.
     */
    @Test
    void thePlaceholderIsBoundInTheSupervisorsDirectoryAndLeavesNothing(@org.junit.jupiter.api.io.TempDir Path near)
            throws Exception {
        Set<String> identities = new java.util.HashSet<>();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (ServerSocketChannel channel = listener(identities)) {
            long before = withdrawnDirectories(tmp);
            assertEquals(2, ListenerWithdrawal.withdraw(identities, near));
            assertFalse(anyFdIs(identities), "the listener is withdrawn");
            try (var left = Files.list(near)) {
                assertEquals(List.of(), left.toList(), "the placeholder's path is deleted");
            }
            assertEquals(before, withdrawnDirectories(tmp), "no directory made in " + tmp);
            String bound = near.resolve("withdrawn-" + ProcessHandle.current().pid()).toString();
            assertTrue(Files.readAllLines(Path.of("/proc/net/unix")).stream().anyMatch(l -> l.endsWith(" " + bound)),
                    "the fds hold a socket bound to " + bound + " (the kernel keeps the name after the unlink)");
        }
    }

    private static long withdrawnDirectories(Path tmp) throws Exception {
        try (var all = Files.list(tmp)) {
            return all.filter(p -> p.getFileName().toString().startsWith("prefork-withdrawn-")).count();
        }
    }

    @Test
    void aSelectorStopsWatchingTheListener() throws Exception {
        Set<String> identities = new java.util.HashSet<>();
        AutoReady probe = new AutoReady(null);
        try (ServerSocketChannel channel = listener(identities); Selector selector = Selector.open()) {
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_ACCEPT);
            selector.selectNow();
            assertTrue(probe.inEpollSet(identities), "the selector's epoll set watches the listener");
            ListenerWithdrawal.withdraw(identities, null);
            assertFalse(probe.inEpollSet(identities), "no epoll set watches it now");
        }
    }
}
