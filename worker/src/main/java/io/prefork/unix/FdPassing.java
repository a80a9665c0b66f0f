package io.prefork.unix;

import java.lang.ref.Reference;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The worker's end of fd passing, with the minimal binding: its recvmsg runs before any app code,
 * where initialising jnr-posix would cost 300 ms. A worker sends plain lines, never fds.
 * Linux on a 64-bit (LP64) CPU only: the msghdr layout below assumes it.
 */
public final class FdPassing implements FdTransport {
    public static final FdPassing WORKER = new FdPassing();

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

    /** Workers never send fds: the supervisor does, with jnr-posix. */
    @Override
    public void sendWithFds(int fd, byte[] data, int[] fds) {
        throw new UnsupportedOperationException("a worker sends no fds");
    }

    @Override
    public int receive(int fd, byte[] buf, List<Integer> fdsOut) throws NativeException {
        Runtime rt = Native.runtime();
        Pointer payload = Memory.allocateDirect(rt, buf.length);
        int space = CMSG_HEADER + align8(4 * MAX_FDS);
        Pointer control = Memory.allocateDirect(rt, space, true);
        // One block holds the msghdr and its single iovec, so nothing it points to can be freed early.
        Pointer msg = Memory.allocateDirect(rt, MSGHDR_SIZE + IOVEC_SIZE, true);
        msg.putAddress(MSGHDR_SIZE, payload.address());
        msg.putLong(MSGHDR_SIZE + 8, buf.length);
        msg.putAddress(16, msg.address() + MSGHDR_SIZE);
        msg.putLong(24, 1);
        msg.putAddress(32, control.address());
        msg.putLong(40, space);
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
