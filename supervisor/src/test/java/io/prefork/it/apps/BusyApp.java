package io.prefork.it.apps;

import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * An app that knows nothing of prefork and serves one request at a time, each burning 20 ms of CPU:
 * more clients than it can serve pile up in the accept queue while it runs flat out (overload).
 */
public final class BusyApp {
    private BusyApp() {
    }

    public static void main(String[] args) throws Exception {
        ServerSocketChannel server = (ServerSocketChannel) System.inheritedChannel();
        byte[] answer = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII);
        long sink = 0;
        while (true) {
            try (SocketChannel client = server.accept()) {
                ByteBuffer in = ByteBuffer.allocate(4096);
                StringBuilder request = new StringBuilder();
                while (request.indexOf("\r\n\r\n") < 0 && client.read(in) > 0) {
                    request.append(new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
                    in.clear();
                }
                long end = System.nanoTime() + 20_000_000L;
                while (System.nanoTime() < end) {
                    sink = sink * 31 + 7;
                }
                client.write(ByteBuffer.wrap(answer));
            }
            if (sink == 42) {
                System.out.println("unlikely");  // keeps the loop from being optimized away
            }
        }
    }
}
