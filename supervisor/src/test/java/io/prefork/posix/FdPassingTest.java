package io.prefork.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.unix.FdPassing;
import io.prefork.unix.FdTransport;
import io.prefork.unix.Fds;
import io.prefork.unix.Interrupts;
import io.prefork.unix.Linux;
import io.prefork.unix.Sockets;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import jnr.unixsocket.UnixSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fd passing as prefork does it, both ends with the minimal binding ({@link FdPassing}): the
 * supervisor sends, a worker or a new supervisor (in an upgrade) receives; the receiver rides out a
 * signal that interrupts recvmsg. And the supervisor's jnr-posix calls.
 */
@Timeout(60)
class FdPassingTest {
    private final List<Integer> opened = new ArrayList<>();
    private final List<UnixSocketChannel> channels = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int fd : opened) {
            Fds.close(fd);
        }
        for (UnixSocketChannel c : channels) {
            c.close();
        }
    }

    private int tcpListener() throws Exception {
        int fd = Sockets.tcpSocket(Linux.AF_INET);
        opened.add(fd);
        Sockets.bind(fd, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "test");
        Sockets.listen(fd, 4, "test");
        return fd;
    }

    private UnixSocketChannel[] pair() throws IOException {
        UnixSocketChannel[] pair = UnixSocketChannel.pair();
        channels.addAll(List.of(pair));
        return pair;
    }

    private static String link(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    @Test
    void theSupervisorSendsAndAWorkerOrTheNextSupervisorReceivesTheSameSocket() throws Exception {
        for (int fdCount : new int[] {1, 2, FdTransport.MAX_FDS}) {
            int listener = tcpListener();
            UnixSocketChannel[] pair = pair();
            ControlSocket supervisor = new ControlSocket(pair[0], FdPassing.INSTANCE);
            ControlSocket other = new ControlSocket(pair[1], FdPassing.INSTANCE);
            int[] sent = new int[fdCount];
            java.util.Arrays.fill(sent, listener);
            supervisor.sendWithFds(ControlMessage.of(MessageType.FDS, "127.0.0.1:1"), sent);
            supervisor.send(ControlMessage.of(MessageType.STOP, "5"));
            assertEquals(ControlMessage.of(MessageType.FDS, "127.0.0.1:1"), other.receive());
            List<Integer> fds = other.takeReceivedFds();
            opened.addAll(fds);
            assertEquals(fdCount, fds.size(), "every fd, in native byte order: " + fds);
            for (int fd : fds) {
                assertNotEquals(listener, fd);
                assertEquals(link(listener), link(fd), "the same socket inode");
                assertTrue(Fds.isCloseOnExec(fd), "received close-on-exec");
            }
            assertEquals(ControlMessage.of(MessageType.STOP, "5"), other.receive());
            assertTrue(other.takeReceivedFds().isEmpty());
        }
    }

    @Test
    void aRecvmsgInterruptedByASignalIsRetried() throws Exception {
        // The JDK's interrupt signal: its handler has no SA_RESTART, so a blocked recvmsg fails with EINTR.
        Class.forName("sun.nio.ch.NativeThread");
        assertTrue(caught(Linux.SIG_JDK_INTERRUPT), "the JDK installed its handler for signal 62");
        UnixSocketChannel[] pair = pair();
        int fd = pair[1].getFD();
        CompletableFuture<Object> got = new CompletableFuture<>();
        List<Integer> fds = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try {
                byte[] buf = new byte[64];
                int n = FdPassing.INSTANCE.receive(fd, buf, fds);
                got.complete(new String(buf, 0, n, StandardCharsets.UTF_8));
            } catch (Throwable t) {
                got.complete(t);
            }
        }, "recvmsg-reader");
        reader.start();
        int tid = awaitThreadInRecvmsg(fd);
        Interrupts.signalThread(tid, Linux.SIG_JDK_INTERRUPT);
        awaitThreadInRecvmsg(fd);  // back in recvmsg after the signal, not out with EINTR
        assertFalse(got.isDone(), "recvmsg returned: " + got.getNow(null));
        int listener = tcpListener();
        FdPassing.INSTANCE.sendWithFds(pair[0].getFD(), "FDS x\n".getBytes(StandardCharsets.UTF_8),
                new int[] {listener});
        assertEquals("FDS x\n", got.get(10, TimeUnit.SECONDS));
        assertEquals(1, fds.size());
        opened.addAll(fds);
    }

    /** How the control socket gives a connection that never says HELLO its deadline. */
    @Test
    void aReceiveTimeoutSetThroughJnrUnixsocketEndsTheWait() throws Exception {
        UnixSocketChannel[] pair = pair();
        pair[1].setOption(jnr.unixsocket.UnixSocketOptions.SO_RCVTIMEO, 200);
        long start = System.nanoTime();
        io.prefork.unix.NativeException e = org.junit.jupiter.api.Assertions.assertThrows(io.prefork.unix.NativeException.class,
                () -> FdPassing.INSTANCE.receive(pair[1].getFD(), new byte[8], new ArrayList<>()));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Linux.EAGAIN, e.errno(), e.getMessage());
        assertTrue(e.getMessage().startsWith("recvmsg: "), e.getMessage());
        assertTrue(ms >= 150, "waited " + ms + " ms");
    }

    @Test
    void killReportsAProcessThatIsGone() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        assertTrue(Processes.kill(p.pid(), Linux.SIGKILL));
        p.waitFor();
        assertEquals(137, p.exitValue());
        assertFalse(Processes.kill(p.pid(), 0));
    }

    private static boolean caught(int signal) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigCgt:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << (signal - 1))) != 0;
            }
        }
        return false;
    }

    /** The thread of this process that the kernel says is in recvmsg() on {@code fd}. */
    private static int awaitThreadInRecvmsg(int fd) throws IOException, InterruptedException {
        int recvmsg = System.getProperty("os.arch").equals("aarch64") ? 212 : 47;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path task : tasks) {
                    String[] call;
                    try {
                        call = Files.readString(task.resolve("syscall")).trim().split(" ");
                    } catch (IOException gone) {
                        continue;
                    }
                    if (call.length > 1 && call[0].equals(Integer.toString(recvmsg))
                            && call[1].equals("0x" + Integer.toHexString(fd))) {
                        return Integer.parseInt(task.getFileName().toString());
                    }
                }
            }
            Thread.sleep(5);
        }
        fail("no thread entered recvmsg() on fd " + fd + " within 10 s");
        return -1;
    }
}
