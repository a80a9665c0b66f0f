package io.prefork.supervisor;

import io.prefork.unix.NativeException;
import io.prefork.unix.Posix;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The sd_notify protocol: newline-separated {@code KEY=VALUE} lines in one datagram to the Unix
 * socket named by {@code NOTIFY_SOCKET} (a path, or '@' and an abstract name). Each message opens
 * its own socket, so a systemd that re-executed itself (and rebound the socket) still hears us.
 * Best effort: a message that cannot be sent is logged once, never fatal.
 */
final class SdNotify {
    private final String socket;
    private final Log log;
    private boolean warned;

    private SdNotify(String socket, Log log) {
        this.socket = socket;
        this.log = log;
    }

    /** Null unless the environment names a notify socket. */
    static SdNotify fromEnvironment(Map<String, String> env, Log log) {
        String socket = env.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty() || !(socket.startsWith("/") || socket.startsWith("@"))) {
            return null;
        }
        return new SdNotify(socket, log);
    }

    String socket() {
        return socket;
    }

    void send(String state) {
        send(state, new int[0]);
    }

    /** With {@code fds}, they ride along as SCM_RIGHTS (how FDSTORE=1 hands sockets to systemd). */
    void send(String state, int[] fds) {
        byte[] data = state.getBytes(StandardCharsets.UTF_8);
        try {
            int fd = Posix.datagramSocket();
            try {
                Posix.connectUnix(fd, socket);
                if (fds.length == 0) {
                    Posix.send(fd, data);
                } else {
                    Posix.sendWithFds(fd, data, fds);
                }
            } finally {
                Posix.close(fd);
            }
        } catch (NativeException | IllegalArgumentException e) {
            if (!warned) {
                warned = true;
                log.warn("sd_notify to " + socket + " failed: " + e.getMessage() + " (further failures are not logged)");
            }
        }
    }
}
