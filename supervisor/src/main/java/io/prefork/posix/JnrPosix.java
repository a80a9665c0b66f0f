package io.prefork.posix;

import io.prefork.unix.NativeException;
import io.prefork.unix.UnixSockets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * jnr-posix, the supervisor's POSIX calls off its start path: signals, --user's accounts, the CPU
 * priorities of --boot-nice, the log file. Initialising it binds its whole libc interface (about 160
 * functions): 100-200 ms of CPU, which at start would be taken from the first workers' boots on a
 * small machine (BENCHMARKS.md section 7). So it is loaded on a background thread once those workers
 * serve ({@link #loadInBackground()}), or at start when an option needs it then; a call before that
 * loads it on the caller's thread. There is one binding, whoever loads it.
 */
public final class JnrPosix {
    private static final CompletableFuture<POSIX> LOADED = new CompletableFuture<>();
    private static volatile Thread startUpThread;

    private JnrPosix() {
    }

    /**
     * The start's native work, on a daemon thread while the main thread parses: {@code first} (before
     * anything loads jnr-ffi), then jnr-unixsocket warmed up (the main thread's admin and control
     * sockets need it next), then jnr-posix if {@code posixToo}.
     */
    public static void warmUpAtStart(Runnable first, boolean posixToo) {
        Thread loader = new Thread(() -> {
            try {
                first.run();
            } finally {
                try {
                    UnixSockets.warmUp();
                } catch (Throwable t) {
                    // The main thread meets the same failure at its first socket, and reports it. (Or
                    // the process is exiting under us, at a usage error: nothing here may print.)
                }
                if (posixToo) {
                    load();
                }
            }
        }, "prefork-native");
        loader.setDaemon(true);
        startUpThread = loader;
        loader.start();
    }

    /**
     * Waits, up to {@code millis}, for the start's native work to end. An exit must not cut it short:
     * without a --cache-dir known before the parse, jffi unpacks a temporary copy of its library, and
     * an exit while it writes it (a usage error, --help) leaves the file behind.
     */
    public static void awaitStartUp(long millis) {
        Thread t = startUpThread;
        if (t == null) {
            return;
        }
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Loads jnr-posix on a daemon thread of its own, unless it is loaded. */
    public static void loadInBackground() {
        if (LOADED.isDone()) {
            return;
        }
        Thread loader = new Thread(JnrPosix::load, "prefork-jnr-posix");
        loader.setDaemon(true);
        loader.start();
    }

    /** Loads it once; a second caller waits for the first. */
    private static synchronized void load() {
        if (LOADED.isDone()) {
            return;
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

    /** jnr-posix, loading it on this thread if nobody has yet (or waiting for the one who is). */
    static POSIX posix() {
        if (!LOADED.isDone()) {
            load();
        }
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
