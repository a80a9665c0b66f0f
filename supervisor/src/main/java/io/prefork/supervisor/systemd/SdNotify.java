package io.prefork.supervisor.systemd;

import io.prefork.unix.FdPassing;
import io.prefork.supervisor.Log;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import jnr.unixsocket.UnixDatagramChannel;

/**
 * The sd_notify protocol: newline-separated {@code KEY=VALUE} lines in one datagram to the Unix
 * socket named by {@code NOTIFY_SOCKET} (a path, or '@' and an abstract name). Each message opens
 * its own socket, so a systemd that re-executed itself (and rebound the socket) still hears us.
 * Best effort: a message that cannot be sent is logged once, never fatal.
 */
public final class SdNotify {
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

    public String socket() {
        return socket;
    }

    public void send(String state) {
        send(state, new int[0]);
    }

    /** With {@code fds}, they ride along as SCM_RIGHTS (how FDSTORE=1 hands sockets to systemd). */
    public void send(String state, int[] fds) {
        byte[] data = state.getBytes(StandardCharsets.UTF_8);
        try (UnixDatagramChannel channel = UnixSockets.connectedDatagram(socket)) {
            if (fds.length == 0) {
                FdPassing.INSTANCE.write(channel.getFD(), data);
            } else {
                FdPassing.INSTANCE.sendWithFds(channel.getFD(), data, fds);
            }
        } catch (IOException | IllegalArgumentException e) {
            if (!warned) {
                warned = true;
                log.warn("sd_notify to " + socket + " failed: " + e.getMessage() + " (further failures are not logged)");
            }
        }
    }
}
