package io.prefork.unix;

import java.io.IOException;

/** A failed system call: the message names the call, its subject and the strerror text. */
public final class NativeException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;
    private final String reason;

    public NativeException(String call, int errno, String strerror) {
        super(call + ": " + strerror);
        this.errno = errno;
        this.reason = strerror;
    }

    /** The strerror text alone, for messages that already name the subject. */
    public String reason() {
        return reason;
    }

    public int errno() {
        return errno;
    }
}
