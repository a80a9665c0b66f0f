package io.prefork.unix;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * The minimal binding ({@link LibC}), loaded once, and the one error convention every call here
 * follows: a failed call becomes a {@link NativeException} naming the call and its strerror text.
 */
public final class Native {
    private static final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    }

    private Native() {
    }

    /** Loads the binding now, so a broken platform fails at start-up, not mid-flight. */
    public static void load() {
        libc();
    }

    static LibC libc() {
        return Holder.LIBC;
    }

    static Runtime runtime() {
        return Holder.RUNTIME;
    }

    /** errno of this thread's last native call, through any jnr binding (jffi keeps one per thread). */
    static int errno() {
        return LastError.getLastError(Holder.RUNTIME);
    }

    static NativeException failure(String call) {
        return failure(call, errno());
    }

    static NativeException failure(String call, int errno) {
        return new NativeException(call, errno, libc().strerror(errno));
    }
}
