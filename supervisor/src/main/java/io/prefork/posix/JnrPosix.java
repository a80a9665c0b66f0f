package io.prefork.posix;

import io.prefork.unix.NativeException;
import io.prefork.unix.UnixSockets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * jnr-posix, the supervisor's POSIX calls. Initialising it binds its whole libc interface (about 160
 * functions), which costs about 100 ms, so {@link #startLoading()} does it on a background thread
 * as the supervisor starts, after warming jnr-unixsocket up there: by the time the first worker asks
 * for its listeners, it is ready. (Started later, as the workers spawn, it made them wait: BENCHMARKS.md
 * section 7.) A call needed earlier (a log file, --user) waits for it; there is no second binding.
 */
public final class JnrPosix {
    private static final CompletableFuture<POSIX> LOADED = new CompletableFuture<>();
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private JnrPosix() {
    }

    /**
     * Starts loading jnr-posix on a daemon thread, after warming jnr-unixsocket up there (which the
     * main thread needs soon after parsing and binding); later calls do nothing.
     */
    public static void startLoading() {
        startLoading(() -> { });
    }

    /** As {@link #startLoading()}, with {@code first} run on that thread before anything loads jnr-ffi. */
    public static void startLoading(Runnable first) {
        if (!STARTED.compareAndSet(false, true)) {
            return;
        }
        Thread loader = new Thread(() -> {
            try {
                first.run();
            } finally {
                load();  // whatever became of first: the supervisor waits for this
            }
        }, "prefork-jnr-posix");
        loader.setDaemon(true);
        loader.start();
    }

    private static void load() {
        try {
            UnixSockets.warmUp();  // first, as the main thread needs it next: for the control socket
        } catch (Throwable t) {
            // The main thread meets the same failure at its first socket, and reports it. (Or the
            // process is exiting under us, at a usage error: nothing here may print.)
        }
        try {
            POSIX posix = POSIXFactory.getNativePOSIX();
            if (!posix.isNative()) {
                throw new IllegalStateException("jnr-posix found no native libc");
            }
            LOADED.complete(posix);
        } catch (Throwable t) {
            LOADED.completeExceptionally(t);
        }
    }

    /** jnr-posix, once loaded: waits for the loader (starting it if nobody did). */
    static POSIX posix() {
        startLoading();
        try {
            return LOADED.join();
        } catch (CompletionException e) {
            throw new IllegalStateException("jnr-posix cannot load: " + e.getCause(), e.getCause());
        }
    }

    /** Waits until jnr-posix is loaded; throws (unchecked) if it cannot load. */
    public static void awaitLoaded() {
        posix();
    }

    /** The one error convention: the call's name and the strerror text of this thread's errno. */
    static NativeException failure(POSIX posix, String call) {
        int errno = posix.errno();
        return new NativeException(call, errno, posix.strerror(errno));
    }
}
