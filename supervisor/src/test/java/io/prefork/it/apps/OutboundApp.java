package io.prefork.it.apps;

import io.prefork.worker.Prefork;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A worker holding an outbound connection (to the port in its first argument, as a database pool
 * would) across its stop. Its stop handler stops accepting, then drains with
 * Prefork.awaitConnectionsClosed and says whether that returned with the outbound one still open.
 */
public final class OutboundApp {
    private OutboundApp() {
    }

    public static void main(String[] args) throws Exception {
        SocketChannel pool = SocketChannel.open(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])));
        ServerSocketChannel listener = Prefork.listeners().get(0).channel();
        String pid = Long.toString(ProcessHandle.current().pid());
        Prefork.onStop(timeLeft -> {
            listener.close();
            boolean none = Prefork.awaitConnectionsClosed(timeLeft);
            System.out.println((none && pool.isOpen() ? "drained with the outbound connection still open"
                    : "drain ended with none=" + none + " pool open=" + pool.isOpen()) + ", pid " + pid);
        });
        Prefork.ready();
        while (listener.isOpen()) {
            try {
                listener.accept().close();
            } catch (java.io.IOException closed) {
                return;
            }
        }
    }
}
