package io.prefork.unix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the kernel knows of one connected socket's traffic: enough to tell whether a request is in
 * flight on it. From TCP_INFO (struct tcp_info, linux/tcp.h) and FIONREAD.
 *
 * @param msSinceSent     tcpi_last_data_sent: milliseconds since data was last sent
 * @param msSinceReceived tcpi_last_data_recv: milliseconds since data last arrived
 * @param bytesReceived   tcpi_bytes_received: everything that ever arrived (Linux 4.1+)
 * @param bytesSent       tcpi_bytes_sent: everything ever sent (Linux 4.19+)
 * @param unsent          tcpi_notsent_bytes: written by the app, not yet sent (Linux 4.6+)
 * @param unread          FIONREAD: arrived, not yet read by the app
 */
public record SocketActivity(long msSinceSent, long msSinceReceived, long bytesReceived, long bytesSent,
                             long unsent, long unread) {
    // Offsets in struct tcp_info, stable since the fields were added.
    private static final int LAST_DATA_SENT = 44;
    private static final int LAST_DATA_RECV = 52;
    private static final int BYTES_RECEIVED = 128;
    private static final int NOTSENT_BYTES = 144;
    private static final int BYTES_SENT = 200;
    private static final int NEEDED = BYTES_SENT + 8;

    /**
     * True when the connection waits for its client: a request arrived and was read, an answer went
     * out no earlier than the last bytes came in, and nothing is left to send. A connection that
     * never received a byte is not idle (its request is on the way), nor one that never sent one
     * (its first request is being served).
     *
     * <p>The kernel keeps these times in ticks (4 ms at HZ=250), so an answer and a request in the
     * same tick look simultaneous, and are taken as the request answered: call {@link #idleSince} on two
     * readings to see a request that arrived after the first reading.
     */
    public boolean idle() {
        return bytesReceived > 0 && bytesSent > 0 && unread == 0 && unsent == 0 && msSinceSent <= msSinceReceived;
    }

    /**
     * Idle now, and no request arrived since {@code earlier} without an answer going out too: bytes
     * that came in while nothing was sent are a request in flight, whatever the tick-rounded times say.
     */
    public boolean idleSince(SocketActivity earlier) {
        return idle() && !(bytesReceived > earlier.bytesReceived && bytesSent == earlier.bytesSent);
    }

    /** Reads a TCP socket's activity. */
    public static SocketActivity of(int fd) throws NativeException {
        byte[] info = new byte[256];
        int[] len = {info.length};
        if (Native.libc().getsockopt(fd, Linux.IPPROTO_TCP, Linux.TCP_INFO, info, len) < 0) {
            throw Native.failure("getsockopt(TCP_INFO)");
        }
        if (len[0] < NEEDED) {
            throw new NativeException("getsockopt(TCP_INFO)", 0, "the kernel's tcp_info has " + len[0]
                    + " bytes, fewer than the " + NEEDED + " a drain reads (Linux 4.19 or newer needed)");
        }
        ByteBuffer b = ByteBuffer.wrap(info).order(ByteOrder.nativeOrder());
        int[] unread = new int[1];
        if (Native.libc().ioctl(fd, Linux.FIONREAD, unread) < 0) {
            throw Native.failure("ioctl(FIONREAD)");
        }
        return new SocketActivity(Integer.toUnsignedLong(b.getInt(LAST_DATA_SENT)),
                Integer.toUnsignedLong(b.getInt(LAST_DATA_RECV)), b.getLong(BYTES_RECEIVED), b.getLong(BYTES_SENT),
                Integer.toUnsignedLong(b.getInt(NOTSENT_BYTES)), unread[0]);
    }
}
