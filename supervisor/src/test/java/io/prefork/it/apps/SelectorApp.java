package io.prefork.it.apps;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * An app that knows nothing of prefork and accepts through a selector (an epoll set on Linux), as
 * Jetty with no acceptor threads or Netty do: it takes fd 0 from System.inheritedChannel() and
 * answers each request with 200 "ok", one thread for everything.
 */
public final class SelectorApp {
    private SelectorApp() {
    }

    public static void main(String[] args) throws Exception {
        ServerSocketChannel server = (ServerSocketChannel) System.inheritedChannel();
        server.configureBlocking(false);
        Selector selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);
        byte[] answer = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII);
        while (true) {
            selector.select();
            for (SelectionKey key : selector.selectedKeys()) {
                if (key.isAcceptable()) {
                    SocketChannel client = server.accept();
                    if (client != null) {
                        client.configureBlocking(false);
                        client.register(selector, SelectionKey.OP_READ, new StringBuilder());
                    }
                } else if (key.isReadable()) {
                    SocketChannel client = (SocketChannel) key.channel();
                    ByteBuffer in = ByteBuffer.allocate(4096);
                    int n = client.read(in);
                    StringBuilder request = (StringBuilder) key.attachment();
                    if (n > 0) {
                        request.append(new String(in.array(), 0, n, StandardCharsets.US_ASCII));
                    }
                    if (n < 0 || request.indexOf("\r\n\r\n") >= 0) {
                        if (n >= 0) {
                            client.write(ByteBuffer.wrap(answer));  // a few bytes: one write takes them all
                        }
                        key.cancel();
                        client.close();
                    }
                }
            }
            selector.selectedKeys().clear();
        }
    }
}
