package io.prefork.examples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A worker that knows nothing of prefork: a tiny blocking HTTP/1.0 server on
 * {@link System#inheritedChannel()}, one thread per connection. It never calls Prefork.ready();
 * under {@code --ready auto} prefork sees it accept and marks it READY.
 */
public final class PlainApp {
    private PlainApp() {
    }

    public static void main(String[] args) throws IOException {
        Channel inherited = System.inheritedChannel();
        if (!(inherited instanceof ServerSocketChannel server)) {
            throw new IllegalStateException("no inherited listening socket (got " + inherited + ")");
        }
        String pid = Long.toString(ProcessHandle.current().pid());
        while (true) {
            SocketChannel client = server.accept();
            Thread t = new Thread(() -> answer(client, pid), "plain-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private static void answer(SocketChannel client, String pid) {
        try (client) {
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (client.read(in) > 0 && !headersComplete(in)) {
                // keep reading until the blank line
            }
            byte[] body = "Hello from a plain app\n".getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Worker-Pid: " + pid
                    + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
            client.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            client.write(ByteBuffer.wrap(body));
        } catch (IOException e) {
            // the client went away; nothing to do for a demo
        }
    }

    private static boolean headersComplete(ByteBuffer in) {
        String s = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
        return s.contains("\r\n\r\n") || s.contains("\n\n");
    }
}
