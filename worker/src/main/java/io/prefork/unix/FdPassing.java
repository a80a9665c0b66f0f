package io.prefork.unix;

import java.lang.ref.Reference;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Fd passing over a connected Unix socket, with the minimal binding, for both ends: the supervisor
 * sends listeners to its workers, to the next supervisor in an upgrade and to systemd's fd store; a
 * worker (or a new supervisor) receives them. A worker's recvmsg runs before any app code, and the
 * supervisor's sendmsg at its start, beside its first workers' boots: initialising jnr-posix there
 * would cost a worker 300 ms and the supervisor 100-200 ms of CPU (README, "Dependencies").
 * Linux on a 64-bit (LP64) CPU only: the msghdr layout below assumes it.
 */
public final class FdPassing implements FdTransport {
    public static final FdPassing INSTANCE = new FdPassing();

    // struct msghdr / iovec / cmsghdr on LP64 Linux.
    private static final int MSGHDR_SIZE = 56;
    private static final int IOVEC_SIZE = 16;
    private static final int CMSG_HEADER = 16;

    private FdPassing() {
    }

    @Override
    public void write(int fd, byte[] data) throws NativeException {
        Fds.writeFully(fd, data, 0, data.length);
    }

    @Override
    public void sendWithFds(int fd, byte[] data, int[] fds) throws NativeException {
        if (fds.length == 0 || fds.length > MAX_FDS) {
            throw new IllegalArgumentException("can send 1.." + MAX_FDS + " fds, not " + fds.length);
        }
        Runtime rt = Native.runtime();
        Pointer payload = Memory.allocateDirect(rt, data.length);
        payload.put(0, data, 0, data.length);
        int space = CMSG_HEADER + align8(4 * fds.length);
        Pointer control = Memory.allocateDirect(rt, space, true);
        control.putLong(0, CMSG_HEADER + 4L * fds.length);
        control.putInt(8, Linux.SOL_SOCKET);
        control.putInt(12, Linux.SCM_RIGHTS);
        for (int i = 0; i < fds.length; i++) {
            control.putInt(CMSG_HEADER + 4L * i, fds[i]);
        }
        Pointer msg = msghdr(rt, payload, data.length, control, space);
        long sent;
        do {
            sent = Native.libc().sendmsg(fd, msg, Linux.MSG_NOSIGNAL);
        } while (sent < 0 && Native.errno() == Linux.EINTR);
        Reference.reachabilityFence(control);
        Reference.reachabilityFence(payload);
        if (sent < 0) {
            throw Native.failure("sendmsg");
        }
        Fds.writeFully(fd, data, (int) sent, data.length - (int) sent);
    }

    @Override
    public int receive(int fd, byte[] buf, List<Integer> fdsOut) throws NativeException {
        Runtime rt = Native.runtime();
        Pointer payload = Memory.allocateDirect(rt, buf.length);
        int space = CMSG_HEADER + align8(4 * MAX_FDS);
        Pointer control = Memory.allocateDirect(rt, space, true);
        Pointer msg = msghdr(rt, payload, buf.length, control, space);
        long n;
        do {
            n = Native.libc().recvmsg(fd, msg, Linux.MSG_CMSG_CLOEXEC);
        } while (n < 0 && Native.errno() == Linux.EINTR);
        Reference.reachabilityFence(control);
        if (n < 0) {
            throw Native.failure("recvmsg");
        }
        collectFds(control, msg.getLong(40), fdsOut);
        if ((msg.getInt(48) & Linux.MSG_CTRUNC) != 0) {
            throw new NativeException("recvmsg", 0, "control data truncated (more than " + MAX_FDS + " fds?)");
        }
        payload.get(0, buf, 0, (int) n);
        return n == 0 ? -1 : (int) n;
    }

    /**
     * A msghdr with one iovec over {@code payload} and {@code control} as its control block. One
     * block holds the msghdr and its iovec, so the iovec cannot be freed before the msghdr; the
     * caller keeps {@code payload} and {@code control} reachable until the call returns.
     */
    private static Pointer msghdr(Runtime rt, Pointer payload, long length, Pointer control, long controlSpace) {
        Pointer msg = Memory.allocateDirect(rt, MSGHDR_SIZE + IOVEC_SIZE, true);
        msg.putAddress(MSGHDR_SIZE, payload.address());
        msg.putLong(MSGHDR_SIZE + 8, length);
        msg.putAddress(16, msg.address() + MSGHDR_SIZE);  // msg_iov
        msg.putLong(24, 1);                               // msg_iovlen
        msg.putAddress(32, control.address());            // msg_control
        msg.putLong(40, controlSpace);                    // msg_controllen
        return msg;
    }

    private static void collectFds(Pointer control, long length, List<Integer> fdsOut) {
        long off = 0;
        while (off + CMSG_HEADER <= length) {
            long cmsgLen = control.getLong(off);
            if (cmsgLen < CMSG_HEADER) {
                return;
            }
            if (control.getInt(off + 8) == Linux.SOL_SOCKET && control.getInt(off + 12) == Linux.SCM_RIGHTS) {
                for (long p = off + CMSG_HEADER; p + 4 <= off + cmsgLen; p += 4) {
                    fdsOut.add(control.getInt(p));
                }
            }
            off += align8((int) cmsgLen);
        }
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }
}
