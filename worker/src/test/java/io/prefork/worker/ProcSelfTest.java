package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What /proc shows of an epoll set: enough to make the same watch again for another socket (WarmUpListener). */
class ProcSelfTest {
    @Test
    void anEpollWatchShowsTheFdTheEventsAndTheDataItWasAddedWith() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open(); Selector selector = Selector.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            selector.selectNow();  // the JDK adds its registrations to the epoll set when it selects
            long inode = ProcSelf.socketInode(ProcSelf.identity(fdOf(server)));
            List<ProcSelf.Watched> watches = new ArrayList<>();
            for (int fd : ProcSelf.fds()) {
                if (ProcSelf.identity(fd).equals(ProcSelf.EPOLL)) {
                    for (ProcSelf.Watched w : ProcSelf.watchedBy(fd)) {
                        if (w.inode() == inode) {
                            watches.add(w);
                        }
                    }
                }
            }
            assertEquals(1, watches.size(), "one epoll set watches the server socket: " + watches);
            ProcSelf.Watched w = watches.get(0);
            assertEquals(fdOf(server), w.fd());
            // The JDK writes the fd into the union's int (its upper half is whatever was there): copied whole, read back as an int.
            assertEquals(w.fd(), (int) w.data(), "the JDK's selector registers each fd with itself as the data");
            assertTrue((w.events() & 0x1) != 0, "EPOLLIN, for OP_ACCEPT: " + Integer.toHexString(w.events()));
        }
    }

    private static int fdOf(ServerSocketChannel channel) throws Exception {
        java.lang.reflect.Method m = channel.getClass().getDeclaredMethod("getFDVal");
        m.setAccessible(true);
        return (int) m.invoke(channel);
    }
}
