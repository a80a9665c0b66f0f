package io.prefork.worker;

import io.prefork.unix.Fds;
import io.prefork.unix.Interrupts;
import io.prefork.unix.Linux;
import io.prefork.unix.Sockets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * --warmup-requests for an app that knows nothing of prefork (it takes its listener from
 * System.inheritedChannel() and never calls Prefork): until the app is warm, fd 0 holds a private
 * listener on 127.0.0.1, on an ephemeral port no client knows, instead of listener 0. The app boots
 * and accepts there; N requests go to it over loopback; then listener 0 takes the private one's place
 * in every fd and epoll set of the app that held it, the private listener's fd is closed, and each
 * thread still blocked in accept() on it gets one more request there and then accepts on listener 0.
 * A real client can reach the app only after that, so it never meets a cold JVM, and the worker is
 * READY only after that, even if the app says it is ready earlier. A spare's app gets the private
 * listener as soon as it asks for its channel: it boots all the way and warms up before it parks, and
 * the swap is all its promotion costs. An app that calls {@link Prefork#listeners()} gets listener 0
 * on fd 0 from that call on (it warms up through its own hook instead). The class archive's training
 * run (--training-requests) of an app with no hook serves its requests the same way, on a private
 * listener that nothing replaces.
 */
final class WarmUpListener {
    private static final long POLL_MILLIS = 10;
    private static final int REQUEST_TIMEOUT_MS = 10_000;
    /** More threads than this asleep in accept() on one listener is not an app anyone runs. */
    private static final int MAX_ACCEPTORS = 64;

    private final WorkerRuntime runtime;
    private final int fd;
    private final int port;
    private final String identity;
    private final int requests;
    private final String path;
    /** Listener 0, once the listeners are here (a spare's come on promotion); -1 before. */
    private volatile int listener0;
    private boolean done;
    /** Listener 0 is where the private listener was, and no acceptor is left on the private one. */
    private volatile boolean inPlace;

    /** An epoll set's watch of the private listener, to be made again for listener 0. */
    private record Watch(int epfd, ProcSelf.Watched watched) {
    }

    private WarmUpListener(WorkerRuntime runtime, int fd, int port, int listener0, int requests, String path) {
        this.runtime = runtime;
        this.fd = fd;
        this.port = port;
        this.identity = ProcSelf.identity(fd);
        this.listener0 = listener0;
        this.requests = requests;
        this.path = path;
    }

    /**
     * Binds the private listener, puts it on fd 0, where listener 0 would go, and starts the thread
     * that warms the app up once it accepts there. {@code listener0} is -1 when the listeners are not
     * here yet (a spare, the training run).
     */
    static WarmUpListener open(WorkerRuntime runtime, int listener0, int requests, String path) throws IOException {
        int fd = Sockets.tcpSocket(Linux.AF_INET);
        WarmUpListener w;
        try {
            Sockets.bind(fd, new InetSocketAddress("127.0.0.1", 0), "the warm-up listener");
            Sockets.listen(fd, 128, "the warm-up listener");
            Fds.dup2(fd, 0);
            w = new WarmUpListener(runtime, fd, Sockets.localInetAddress(fd).getPort(), listener0, requests, path);
        } catch (IOException | RuntimeException e) {
            Fds.close(fd);
            throw e;
        }
        Thread t = new Thread(w::warmUp, "prefork-warm-up");
        t.setDaemon(true);
        t.start();
        return w;
    }

    /** Where the private listener is, as a listener's address. */
    String address() {
        return "127.0.0.1:" + port;
    }

    /** A spare's listener 0, on promotion: it takes the private listener's place once the app is warm. */
    void listenerZero(int fd) {
        listener0 = fd;
    }

    boolean inPlace() {
        return inPlace;
    }

    /**
     * Waits until the app accepts on the private listener and runs the requests through it. The
     * training run then parks (the supervisor stops it, and the JVM writes the archive); a spare parks
     * warm and waits for its listeners; then listener 0 takes the private listener's place. Returns
     * without warming if the app takes its listeners from Prefork (they were swapped then) or the
     * worker stops first.
     */
    private void warmUp() {
        boolean training = WorkerLog.training();
        try {
            if (awaitAccepting(() -> done || runtime.isStopping() || training && runtime.parked())) {
                serve();  // said before the swap: once listener 0 is in, a real client may be answered at once
                if (!training) {
                    runtime.park();  // a spare, warm now; a worker has its listeners already
                    runtime.awaitListeners();
                    swapIn();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (IOException e) {
            WorkerLog.info("cannot warm up on the private listener or put listener 0 in its place: " + e.getMessage());
        }
        if (training && !runtime.isStopping()) {
            runtime.park();
        }
    }

    /** Waits until the app accepts on the private listener; false if {@code giveUp} comes first. */
    private boolean awaitAccepting(java.util.function.BooleanSupplier giveUp) throws IOException, InterruptedException {
        while (!accepting()) {
            synchronized (this) {
                if (giveUp.getAsBoolean()) {
                    return false;
                }
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
        return true;
    }

    /** The requests, over loopback to the private listener ({@link WarmUpRun}); the supervisor hears how it went. */
    private void serve() throws InterruptedException {
        long start = System.nanoTime();
        String failure = WarmUpRun.run(WarmUp.overLoopback(() -> port), requests, path);
        runtime.warmUp().warmedUp(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), failure,
                "on a private loopback listener");
    }

    /** Listener 0 on fd 0 at once, without a warm-up: the app asked Prefork for its listeners. */
    void giveUp() {
        try {
            swapIn();
        } catch (IOException e) {
            WorkerLog.info("cannot put listener 0 on fd 0: " + e.getMessage());
        }
    }

    private boolean accepting() throws IOException {
        return AutoReady.accepting(Set.of(identity));
    }

    /** One GET over loopback to the private port on a connection of its own; the answer is read to its end. */
    private void request(String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), REQUEST_TIMEOUT_MS);
            s.setSoTimeout(REQUEST_TIMEOUT_MS);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[8192];
            while (in.read(buffer) >= 0) {
                // read to the end: the app has served the whole request
            }
        }
    }

    /**
     * Puts listener 0 wherever the private listener is (dup2 onto each fd, the same watch in each
     * epoll set), closes the private listener's own fd, and moves each thread still asleep in accept()
     * there over to listener 0. Returns false if that was done already.
     */
    private synchronized boolean swapIn() throws IOException {
        if (done) {
            return false;
        }
        if (listener0 < 0) {
            throw new IOException("listener 0 is not here yet");
        }
        done = true;
        long inode = ProcSelf.socketInode(identity);
        List<Integer> fds = new ArrayList<>();
        List<Watch> watches = new ArrayList<>();
        for (int f : ProcSelf.fds()) {
            String what = ProcSelf.identity(f);
            if (what.equals(identity) && f != fd) {
                fds.add(f);
            } else if (what.equals(ProcSelf.EPOLL)) {
                for (ProcSelf.Watched w : ProcSelf.watchedBy(f)) {
                    if (w.inode() == inode) {
                        Interrupts.removeFromEpoll(f, w.fd());
                        watches.add(new Watch(f, w));
                    }
                }
            }
        }
        for (int f : fds) {
            Fds.dup2(listener0, f);
        }
        for (Watch w : watches) {
            Interrupts.addToEpoll(w.epfd(), w.watched().fd(), w.watched().events(), w.watched().data());
        }
        Fds.close(fd);
        moveAcceptorsOver();
        inPlace = true;
        runtime.warmUp().listenerZeroInPlace();
        return true;
    }

    /**
     * No fd of this process is the private listener now, but a thread asleep in accept() there still
     * holds it, and the kernel keeps it listening until that accept() returns. One more request to the
     * private port ends each such accept() normally: the app serves it, and its next accept() is on
     * listener 0, where the app is seen to accept (READY). A signal would not do: the JDK then waits in
     * poll() instead, where nothing shows that the app accepts until a real client comes. Once no
     * thread holds it, the socket is gone and the next connect is refused: the kernel says it is done.
     */
    private void moveAcceptorsOver() {
        for (int i = 0; i < MAX_ACCEPTORS; i++) {
            try {
                request(path);
            } catch (IOException e) {
                return;  // refused (no acceptor held it), or reset as the last one let go
            }
        }
        WorkerLog.info("the private warm-up listener is still held after " + MAX_ACCEPTORS + " requests to move its acceptors over");
    }
}
