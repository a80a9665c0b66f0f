package io.prefork.posix;

import io.prefork.unix.Accounts;
import jnr.posix.Group;
import jnr.posix.Passwd;

/** Users and groups, for --user and --group, with jnr-posix (getgrouplist, which it lacks, is the minimal binding's). */
public final class Users {
    private Users() {
    }

    /** A user's ids, as getpwnam(3) and getgrouplist(3) give them: what --user resolves to. */
    public record Account(String name, int uid, int gid, int[] groups) {
    }

    /** Null if there is no such user. */
    public static Account lookupUser(String name) {
        Passwd pw = JnrPosix.posix().getpwnam(name);
        if (pw == null) {
            return null;
        }
        int gid = (int) pw.getGID();
        return new Account(name, (int) pw.getUID(), gid, Accounts.groupList(name, gid));
    }

    /** A group's id, or -1 if there is no such group. */
    public static int lookupGroup(String name) {
        Group gr = JnrPosix.posix().getgrnam(name);
        return gr == null ? -1 : (int) gr.getGID();
    }

    public static int uid() {
        return JnrPosix.posix().getuid();
    }

    public static int effectiveUid() {
        return JnrPosix.posix().geteuid();
    }
}
