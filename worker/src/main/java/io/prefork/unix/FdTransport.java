package io.prefork.unix;

import java.util.List;

/**
 * How bytes and fds cross a connected Unix stream socket ({@link FdPassing}, on both sides).
 */
public interface FdTransport {
    /** The most fds one message may carry; prefork sends one per listener. */
    int MAX_FDS = 64;

    /** Writes all of {@code data}. */
    void write(int fd, byte[] data) throws NativeException;

    /** Writes all of {@code data}, with 1 to {@link #MAX_FDS} fds riding on its first byte (SCM_RIGHTS). */
    void sendWithFds(int fd, byte[] data, int[] fds) throws NativeException;

    /**
     * Reads up to {@code buf.length} bytes; returns -1 at end of stream. Fds that arrive as
     * SCM_RIGHTS go to {@code fdsOut}, close-on-exec. Truncated control data is an error (the kernel
     * closed fds we lost). A signal that interrupts the wait does not end it.
     */
    int receive(int fd, byte[] buf, List<Integer> fdsOut) throws NativeException;
}
