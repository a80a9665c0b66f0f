package io.prefork.posix;

import io.prefork.unix.FdTransport;
import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import jnr.posix.CmsgHdr;
import jnr.posix.MsgHdr;
import jnr.posix.POSIX;

/**
 * The supervisor's fd passing, with jnr-posix's sendmsg and recvmsg: listeners to its workers, to
 * the next supervisor in an upgrade, and to systemd's fd store. Around jnr-posix's traps:
 * <ul>
 *   <li>the iovec must point at a direct buffer (a heap buffer gives EFAULT);</li>
 *   <li>the control block lives only as long as the {@link CmsgHdr} allocateControl returns, so
 *       that object is kept reachable until the call returns (and so is the msghdr);</li>
 *   <li>{@link CmsgHdr#getData()} is big-endian: fds are read in native order;</li>
 *   <li>nothing retries EINTR: the loops here do.</li>
 * </ul>
 */
public final class PosixFdTransport implements FdTransport {
    public static final PosixFdTransport SUPERVISOR = new PosixFdTransport();

    private PosixFdTransport() {
    }

    @Override
    public void write(int fd, byte[] data) throws NativeException {
        writeFrom(JnrPosix.posix(), fd, data, 0);
    }

    private static void writeFrom(POSIX posix, int fd, byte[] data, int off) throws NativeException {
        while (off < data.length) {
            byte[] rest = off == 0 ? data : java.util.Arrays.copyOfRange(data, off, data.length);
            int n = posix.write(fd, rest, rest.length);
            if (n < 0) {
                if (posix.errno() == Linux.EINTR) {
                    continue;
                }
                throw JnrPosix.failure(posix, "write");
            }
            off += n;
        }
    }

    @Override
    public void sendWithFds(int fd, byte[] data, int[] fds) throws NativeException {
        if (fds.length == 0 || fds.length > MAX_FDS) {
            throw new IllegalArgumentException("can send 1.." + MAX_FDS + " fds, not " + fds.length);
        }
        POSIX posix = JnrPosix.posix();
        ByteBuffer payload = ByteBuffer.allocateDirect(data.length).put(data).flip();
        ByteBuffer rights = ByteBuffer.allocate(4 * fds.length).order(ByteOrder.nativeOrder());
        for (int f : fds) {
            rights.putInt(f);
        }
        rights.flip();
        MsgHdr msg = posix.allocateMsgHdr();
        CmsgHdr control = msg.allocateControl(rights.remaining());
        control.setLevel(Linux.SOL_SOCKET);
        control.setType(Linux.SCM_RIGHTS);
        control.setData(rights);
        int sent;
        do {
            msg.setIov(new ByteBuffer[] {payload});
            sent = posix.sendmsg(fd, msg, Linux.MSG_NOSIGNAL);
        } while (sent < 0 && posix.errno() == Linux.EINTR);
        Reference.reachabilityFence(control);
        Reference.reachabilityFence(msg);
        Reference.reachabilityFence(payload);
        if (sent < 0) {
            throw JnrPosix.failure(posix, "sendmsg");
        }
        writeFrom(posix, fd, data, sent);
    }

    @Override
    public int receive(int fd, byte[] buf, List<Integer> fdsOut) throws NativeException {
        POSIX posix = JnrPosix.posix();
        ByteBuffer payload = ByteBuffer.allocateDirect(buf.length);
        MsgHdr msg = posix.allocateMsgHdr();
        CmsgHdr control = msg.allocateControl(4 * MAX_FDS);
        int n;
        do {
            msg.setIov(new ByteBuffer[] {payload});
            n = posix.recvmsg(fd, msg, Linux.MSG_CMSG_CLOEXEC);
        } while (n < 0 && posix.errno() == Linux.EINTR);
        Reference.reachabilityFence(control);
        Reference.reachabilityFence(payload);
        if (n < 0) {
            throw JnrPosix.failure(posix, "recvmsg");
        }
        for (CmsgHdr c : msg.getControls()) {
            ByteBuffer data = c.getData();
            if (c.getLevel() == Linux.SOL_SOCKET && c.getType() == Linux.SCM_RIGHTS && data != null) {
                data.order(ByteOrder.nativeOrder());
                while (data.remaining() >= 4) {
                    fdsOut.add(data.getInt());
                }
            }
        }
        if ((msg.getFlags() & Linux.MSG_CTRUNC) != 0) {
            throw new NativeException("recvmsg", 0, "control data truncated (more than " + MAX_FDS + " fds?)");
        }
        payload.get(0, buf, 0, n);
        return n == 0 ? -1 : n;
    }
}
