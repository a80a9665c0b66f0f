package io.prefork.worker;

/** {@link WarmUp#onLoopbackServer}: the app's server opened at the first request, closed after the last. */
final class LoopbackServerWarmUp implements WarmUp {
    private final LoopbackServer server;
    private final WarmUp client = WarmUp.overLoopback(this::port);
    /** The server's port once it is open; -1 before. */
    private int port = -1;

    LoopbackServerWarmUp(LoopbackServer server) {
        this.server = server;
    }

    private synchronized int port() {
        if (port < 0) {
            try {
                port = server.open();
            } catch (Exception e) {
                throw new IllegalStateException("cannot open the warm-up's loopback server: " + e, e);
            }
        }
        return port;
    }

    @Override
    public void request(String path) throws Exception {
        client.request(path);
    }

    @Override
    public synchronized void finished() throws Exception {
        client.finished();
        if (port >= 0) {
            server.close();
        }
    }
}
