package io.prefork.supervisor.net;

import io.prefork.supervisor.UsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * systemd's socket passing (sd_listen_fds(3)): {@code LISTEN_FDS=n} sockets start at fd 3, meant for
 * the process whose pid is {@code LISTEN_PID}, named by {@code LISTEN_FDNAMES} (colon-separated).
 * They come from a .socket unit, or from the service's fd store after a restart.
 */
public record SocketActivation(List<Integer> fds, List<String> names) {
    static final int FIRST_FD = 3;
    /** The variables a worker must not inherit: they describe the supervisor's fds, not its. */
    public static final List<String> VARIABLES = List.of("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES");
    /** More passed sockets than this is not a real service's. */
    static final int MAX_FDS = 1024;

    /** Null when nothing was passed to this process. */
    public static SocketActivation fromEnvironment(Map<String, String> env, long pid) throws UsageException {
        String listenPid = env.get("LISTEN_PID");
        String count = env.get("LISTEN_FDS");
        if (listenPid == null || count == null || !listenPid.trim().equals(Long.toString(pid))) {
            return null; // not set, or set for some other process (a wrapper that did not exec)
        }
        int n;
        try {
            n = Integer.parseInt(count.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("LISTEN_FDS must be a number of sockets, got '" + count + "'");
        }
        if (n <= 0) {
            return null;
        }
        if (n > MAX_FDS) {  // each is an fd this process would have to hold: a huge count is a broken environment
            throw new UsageException("LISTEN_FDS must be at most " + MAX_FDS + " sockets, got '" + count.trim() + "'");
        }
        String namesVar = env.getOrDefault("LISTEN_FDNAMES", "");
        String[] given = namesVar.isEmpty() ? new String[0] : namesVar.split(":", -1);
        List<Integer> fds = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fds.add(FIRST_FD + i);
            names.add(i < given.length && !given[i].isEmpty() ? given[i] : "unknown");
        }
        return new SocketActivation(List.copyOf(fds), List.copyOf(names));
    }
}
