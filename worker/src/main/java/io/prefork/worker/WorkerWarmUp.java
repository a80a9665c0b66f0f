package io.prefork.worker;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * --warmup-requests (and the training run's --training-requests) in one worker: through the app's
 * hook ({@link Prefork#onWarmUp}), or for an app that takes {@code System.inheritedChannel()} on a
 * private loopback listener ({@link WarmUpListener}), and what that means for the request count and
 * for READY.
 */
final class WorkerWarmUp {
    private final WorkerRuntime runtime;
    private final int requests;
    private final String path;
    /** False when listener 0 is a unix socket: no TCP listener may stand in for it. */
    private final boolean privateListenerAllowed;
    private volatile WarmUp hook;
    private final AtomicBoolean hookRan = new AtomicBoolean();
    private volatile boolean running;
    /** How many of the worker's counted requests were warm-up requests (the hook's). */
    private volatile long served;
    /** Guards making the private listener (the app asks for its channel) against the listeners' arrival. */
    private final Object lock = new Object();
    private WarmUpListener listener;
    private boolean listenersHere;
    /** Why the app said it is ready while it still warmed up on the private listener: READY waits for listener 0. */
    private String readyOnceInPlace;

    WorkerWarmUp(WorkerRuntime runtime, int requests, String path, boolean privateListenerAllowed) {
        this.runtime = runtime;
        this.requests = requests;
        this.path = path;
        this.privateListenerAllowed = privateListenerAllowed;
    }

    void setHook(WarmUp w) {
        hook = w;
    }

    boolean hasHook() {
        return hook != null;
    }

    /** True while the hook's requests run: they take the real requests' path, but never ask for a recycle. */
    boolean running() {
        return running;
    }

    /** How many counted requests were the hook's warm-up. */
    long served() {
        return served;
    }

    /**
     * The first time the app asks for its listeners, before it has them (a spare, before it parks) or
     * before it can accept on them, the app's own warm-up runs the requests through its whole stack
     * ({@link WarmUpRun}). The JIT and the class loader then have seen real requests before a client does.
     *
     * @param counted the worker's request count, read once the hook is done
     */
    void runHookOnce(java.util.function.LongSupplier counted) {
        if (requests <= 0 || !hookRan.compareAndSet(false, true)) {
            return;
        }
        WarmUp w = hook;
        if (w == null) {
            if (!WorkerLog.training()) {
                WorkerLog.info("--warmup-requests " + requests + ": the app registered no Prefork.onWarmUp; no warm-up");
            }
            return;
        }
        long start = System.nanoTime();
        running = true;
        String failure = null;
        try {
            failure = WarmUpRun.run(w, requests, path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        } finally {
            served = counted.getAsLong();  // served before any real one: warm-up requests, all of them
            running = false;
        }
        warmedUp(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), failure, "through Prefork.onWarmUp");
    }

    /** Logs the warm-up and tells the supervisor (WARMED), or logs why it failed ({@code failure}). */
    void warmedUp(long ms, String failure, String how) {
        if (failure != null) {
            WorkerLog.info("warm-up failed after some requests: " + failure + "; serving without it");
            return;
        }
        WorkerLog.info("warmed up " + how + ": " + requests + " requests to " + path + " in " + ms + " ms");
        runtime.sendQuietly(ControlMessage.of(MessageType.WARMED, Integer.toString(requests), Long.toString(ms)));
    }

    /**
     * A spare's or the training run's app that asks for its channel before it has listeners: with
     * requests to serve, fd 0 gets a private loopback listener now, so that the app boots all the way,
     * serves them there, and then parks (listener 0 takes its place on promotion). Null when there is
     * nothing to serve, no TCP listener to stand in for, or the listeners are here already.
     */
    WarmUpListener privateListenerBeforeListeners() {
        synchronized (lock) {
            if (listenersHere) {
                return null;
            }
            if (listener == null && requests > 0 && privateListenerAllowed) {
                try {
                    listener = WarmUpListener.open(runtime, -1, requests, path);
                } catch (IOException e) {
                    WorkerLog.info("cannot open a private listener to warm up on: " + e.getMessage() + "; the app waits for its listeners");
                }
            }
            return listener;
        }
    }

    /**
     * The listeners arrived; returns false if listener 0 should simply go on fd 0. A spare's private
     * listener gets listener 0 to put in its place once warm; a worker with requests to serve, whose
     * listener 0 is TCP, gets a private listener now.
     */
    boolean takeListenerZero(int fd, String address) throws IOException {
        synchronized (lock) {
            listenersHere = true;
            if (listener != null) {
                listener.listenerZero(fd);
            } else if (requests > 0 && !address.startsWith("unix:")) {
                listener = WarmUpListener.open(runtime, fd, requests, path);
            }
            return listener != null;
        }
    }

    /** The app took its listeners from Prefork (it warmed up through its hook, or has none): listener 0 on fd 0 now. */
    void giveUpPrivateListener() {
        WarmUpListener w;
        synchronized (lock) {
            w = listener;
        }
        if (w != null) {
            w.giveUp();
        }
    }

    /** True if READY must wait: the app is up, but still on its private listener, where no client reaches it. */
    boolean deferReady(String how) {
        synchronized (lock) {
            if (listener != null && !listener.inPlace()) {
                readyOnceInPlace = how;
                return true;
            }
            return false;
        }
    }

    /** Listener 0 took the private listener's place: READY now if the app said it was ready meanwhile. */
    void listenerZeroInPlace() {
        String how;
        synchronized (lock) {
            how = readyOnceInPlace;
        }
        if (how != null) {
            runtime.markReady(how);
        }
    }
}
