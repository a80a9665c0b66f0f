package io.prefork.unix;

import java.util.Arrays;

/**
 * Who a process runs as, with the minimal binding: the worker's privilege drop runs before any app
 * code (where jnr-posix costs 300 ms), and setgroups and getgrouplist are in neither library.
 * The supervisor looks users and groups up with jnr-posix.
 */
public final class Accounts {
    private Accounts() {
    }

    /** The groups {@code user} belongs to, with {@code gid} first: what initgroups(3) would set. */
    public static int[] groupList(String user, int gid) {
        int[] n = {64};
        while (true) {
            int[] groups = new int[n[0]];
            int[] count = {groups.length};
            if (Native.libc().getgrouplist(user, gid, groups, count) >= 0) {
                return Arrays.copyOf(groups, count[0]);
            }
            n[0] = Math.max(count[0], n[0] * 2);
        }
    }

    /**
     * Becomes {@code uid}/{@code gid} with exactly {@code groups} for good: setgroups, setgid,
     * setuid, in that order (once setuid is done the others are no longer allowed). glibc applies
     * each to every thread of the process. Then checks: the ids took, and setuid(0) fails. Last,
     * PR_SET_DUMPABLE again, which the uid change turned off: without it the process could not read
     * its own /proc files (readiness detection reads them).
     */
    public static void dropPrivileges(int uid, int gid, int[] groups) throws NativeException {
        LibC libc = Native.libc();
        if (libc.setgroups(groups.length, groups) < 0) {
            throw Native.failure("setgroups");
        }
        if (libc.setgid(gid) < 0) {
            throw Native.failure("setgid(" + gid + ")");
        }
        if (libc.setuid(uid) < 0) {
            throw Native.failure("setuid(" + uid + ")");
        }
        if (libc.setuid(0) == 0 && uid != 0) {
            throw new NativeException("setuid(0)", 0, "succeeded after the drop: privileges were not dropped");
        }
        if (libc.getuid() != uid || libc.geteuid() != uid || libc.getgid() != gid || libc.getegid() != gid) {
            throw new NativeException("getuid", 0, "ids after the drop are uid " + libc.getuid() + "/" + libc.geteuid()
                    + ", gid " + libc.getgid() + "/" + libc.getegid() + "; wanted " + uid + ", " + gid);
        }
        if (libc.prctl(Linux.PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
            throw Native.failure("prctl(PR_SET_DUMPABLE)");
        }
    }
}
