package io.prefork.it.apps;

import io.prefork.worker.Prefork;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A worker whose stop handler closes the inherited channel, as Jetty does, drains for 300 ms, and
 * then writes to fds 1 and 2 themselves, as the JVM does for a thread dump or -Xlog output. Its main
 * returns as soon as the channel is closed, as a simple accept loop's does, and only daemon threads
 * are left: the stop handler must still run to its end.
 */
public final class NativeOutputApp {
    private NativeOutputApp() {
    }

    public static void main(String[] args) throws IOException {
        ServerSocketChannel server = (ServerSocketChannel) System.inheritedChannel();
        Prefork.onStop(timeLeft -> {
            server.close();
            Thread.sleep(300);
            long pid = ProcessHandle.current().pid();
            // Not closed: closing these would close fds 1 and 2.
            new FileOutputStream(FileDescriptor.out).write(("fd 1 after the close, pid " + pid + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
            new FileOutputStream(FileDescriptor.err).write(("fd 2 after the close, pid " + pid + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
        });
        Prefork.ready();
        try {
            while (true) {
                try (SocketChannel client = server.accept()) {
                    client.write(java.nio.ByteBuffer.wrap("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
                            .getBytes(StandardCharsets.US_ASCII)));
                }
            }
        } catch (ClosedChannelException e) {
            // stopping
        }
    }
}
