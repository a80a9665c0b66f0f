package io.prefork.it.apps;

import io.prefork.worker.Prefork;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * A worker whose every request takes 60 s and whose stop handler waits for requests in flight
 * without a deadline, as a naive app would. Only the supervisor's SIGKILL ends it during a stop.
 */
public final class StuckApp {
    private StuckApp() {
    }

    public static void main(String[] args) throws IOException {
        ServerSocketChannel server = (ServerSocketChannel) System.inheritedChannel();
        CountDownLatch finished = new CountDownLatch(1);
        Prefork.onStop(timeLeft -> finished.await());
        Prefork.ready();
        while (true) {
            SocketChannel client = server.accept();
            Thread t = new Thread(() -> {
                try (client) {
                    client.read(ByteBuffer.allocate(4096));
                    Thread.sleep(60_000);
                    client.write(ByteBuffer.wrap("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nslow\n"
                            .getBytes(StandardCharsets.US_ASCII)));
                } catch (IOException | InterruptedException e) {
                    // cut off
                } finally {
                    finished.countDown();
                }
            });
            t.start();
        }
    }
}
