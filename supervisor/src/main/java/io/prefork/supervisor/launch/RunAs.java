package io.prefork.supervisor.launch;

import io.prefork.posix.Users;
import io.prefork.supervisor.UsageException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code --user} / {@code --group}: who the workers run as. The supervisor stays root (it may need
 * to bind again for a reuseport slot, and to signal workers). Each worker, and each JVM that reads
 * what workers wrote (a class archive's check, the AOT cache's assembly), is started through
 * util-linux's {@code setpriv}, which takes the ids and then execs: nothing in that process, not the
 * JVM's own start nor a Java agent, ever runs as root, and root never maps an archive that the
 * workers' user could have written.
 */
public record RunAs(String user, String group, int uid, int gid, int[] groups, String setpriv) {
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
        String setpriv = onPath("setpriv", System.getenv("PATH"));
        if (setpriv == null) {
            throw new UsageException("--user/--group start workers through setpriv (util-linux), which is not on the PATH");
        }
        return new RunAs(user, group, uid, gid, groups, setpriv);
    }

    /** The first executable {@code name} in the absolute directories of {@code path} (a root daemon skips "" and "."), or null. */
    static String onPath(String name, String path) {
        for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
            if (!dir.startsWith("/")) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath().toString();
            }
        }
        return null;
    }

    /** What goes before a command to run it as these ids: setpriv takes them (groups first), then execs. */
    public List<String> prefix() {
        String supplementary = Arrays.stream(groups).mapToObj(Integer::toString).collect(Collectors.joining(","));
        return List.of(setpriv, "--reuid=" + uid, "--regid=" + gid,
                supplementary.isEmpty() ? "--clear-groups" : "--groups=" + supplementary, "--");
    }

    /**
     * Whether these ids may reach {@code dir}: search permission on it and on every directory above
     * it, by the mode bits as the kernel judges them (owner, then group, then others; ACLs aside).
     * A part that does not exist yet is made by root with the usual 0755, so its nearest existing
     * ancestor decides.
     */
    public boolean canReach(Path dir) {
        try {
            Path p = dir.toAbsolutePath().normalize();
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            for (p = p == null ? null : p.toRealPath(); p != null; p = p.getParent()) {
                if ((granted(p) & 01) == 0) {
                    return false;
                }
            }
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Null if these ids may run {@code java} and read every entry of {@code classpath} (reach it, and
     * the mode bits that apply to them); else what they cannot do, e.g. {@code read /root/app.jar}.
     */
    public String unusable(String java, String classpath) {
        if (!may(Path.of(java), 01)) {
            return "run " + java;
        }
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isEmpty() || entry.endsWith("*")) {
                continue;  // the JVM's own reading of "" and wildcards: left to it
            }
            Path p = Path.of(entry);
            if (Files.exists(p) && !may(p, Files.isDirectory(p) ? 05 : 04)) {
                return "read " + entry;
            }
        }
        return null;
    }

    /** Whether these ids have the {@code bits} (04 read, 02 write, 01 execute) on {@code file}, and can reach it. */
    private boolean may(Path file, int bits) {
        try {
            Path real = file.toRealPath();
            return canReach(file.toAbsolutePath().getParent()) && canReach(real.getParent()) && (granted(real) & bits) == bits;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The rwx bits of {@code p}'s mode that apply to these ids, as the kernel picks them: owner, else group, else others. */
    private int granted(Path p) throws IOException {
        var a = Files.readAttributes(p, "unix:uid,gid,mode");
        int mode = (Integer) a.get("mode");
        int group = (Integer) a.get("gid");
        return (Integer) a.get("uid") == uid ? mode >> 6 & 07
                : group == gid || Arrays.stream(groups).anyMatch(g -> g == group) ? mode >> 3 & 07 : mode & 07;
    }

    /** Whether {@code other} runs workers as the same ids. */
    public boolean sameIds(RunAs other) {
        return other != null && uid == other.uid && gid == other.gid && Arrays.equals(groups, other.groups);
    }

    @Override
    public String toString() {
        return (user == null ? "uid " + uid : user) + (group == null ? "" : ":" + group) + " (uid " + uid + ", gid " + gid + ")";
    }
}
