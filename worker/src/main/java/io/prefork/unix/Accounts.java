package io.prefork.unix;

import java.util.Arrays;

/**
 * A user's groups, with the minimal binding: getgrouplist is in neither library. The supervisor
 * looks users and groups up with jnr-posix.
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
}
