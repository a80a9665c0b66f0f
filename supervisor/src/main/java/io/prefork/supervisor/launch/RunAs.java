package io.prefork.supervisor.launch;

import io.prefork.posix.Users;
import io.prefork.supervisor.UsageException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * {@code --user} / {@code --group}: who the workers become once they have their sockets. The
 * supervisor stays root (it may need to bind again for a reuseport slot, and to signal workers);
 * only the workers, where the app's code runs, drop.
 */
public record RunAs(String user, String group, int uid, int gid, int[] groups) {
    /** Null when neither option is given, or when they name who we already are. */
    public static RunAs resolve(String user, String group) throws UsageException {
        if (user == null && group == null) {
            return null;
        }
        Users.Account account = user == null ? null : Users.lookupUser(user);
        if (user != null && account == null) {
            throw new UsageException("--user " + user + ": no such user");
        }
        int gid = group == null ? account.gid() : Users.lookupGroup(group);
        if (gid < 0) {
            throw new UsageException("--group " + group + ": no such group");
        }
        int uid = account == null ? Users.uid() : account.uid();
        int[] groups = account == null ? new int[] {gid} : account.groups();
        if (Users.effectiveUid() != 0) {
            if (uid == Users.uid() && group == null) {
                return null; // already that user
            }
            throw new UsageException("--user/--group need the supervisor to start as root (it runs as uid "
                    + Users.effectiveUid() + ")");
        }
        return new RunAs(user, group, uid, gid, groups);
    }

    /** What a worker gets in PREFORK_RUN_AS: {@code uid:gid:group,group,...}. */
    String environment() {
        return uid + ":" + gid + ":" + Arrays.stream(groups).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return (user == null ? "uid " + uid : user) + (group == null ? "" : ":" + group) + " (uid " + uid + ", gid " + gid + ")";
    }
}
