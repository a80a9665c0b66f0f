package io.prefork.worker;

import io.prefork.unix.Fds;
import java.io.OutputStream;
import java.io.IOException;

/** Writes straight to a file descriptor number (one the JDK does not know about). */
final class FdOutputStream extends OutputStream {
    private final int fd;

    FdOutputStream(int fd) {
        this.fd = fd;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Fds.writeFully(fd, b, off, len);
    }
}
