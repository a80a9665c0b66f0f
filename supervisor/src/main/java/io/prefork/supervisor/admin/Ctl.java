package io.prefork.supervisor.admin;

import io.prefork.supervisor.AdminCommand;
import io.prefork.supervisor.ExitCodes;
import io.prefork.supervisor.Flag;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code prefork ctl [--socket PATH] COMMAND} (the commands: {@link AdminCommand}): talks to a
 * running supervisor's admin socket. Exits 0 when the command worked, 1 when it did not (a reload
 * that aborted prints why), 2 for a usage error.
 */
public final class Ctl {
    private static final String USAGE = "usage: prefork ctl [--socket PATH] " + AdminCommand.usage(" | ");

    private Ctl() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        List<String> words = new ArrayList<>(Arrays.asList(args));
        Path socket = Path.of(Flag.CTL_SOCKET.defaultValue());
        if (words.size() >= 2 && words.get(0).equals("--socket")) {
            socket = Path.of(words.get(1));
            words = words.subList(2, words.size());
        }
        if (words.isEmpty() || AdminCommand.parse(words.get(0)).isEmpty()) {
            System.err.println(USAGE);
            return ExitCodes.USAGE;
        }
        String invalid = UnixSockets.invalidPath(socket.toString());
        if (invalid != null) {
            System.err.println("prefork ctl: --socket: " + invalid);
            return ExitCodes.USAGE;
        }
        try (SocketChannel ch = connect(socket)) {
            ch.write(ByteBuffer.wrap((String.join(" ", words) + "\n").getBytes(StandardCharsets.UTF_8)));
            String reply = readAll(ch);
            int lastLine = reply.lastIndexOf('\n', reply.length() - 2) + 1;
            String status = reply.substring(lastLine).strip();
            System.out.print(reply.substring(0, lastLine));
            if (status.equals("OK")) {
                return ExitCodes.OK;
            }
            System.err.println("prefork ctl: " + (status.startsWith("ERROR ") ? status.substring(6) : "no answer"));
            return ExitCodes.RUNTIME;
        } catch (IOException e) {
            System.err.println("prefork ctl: cannot talk to the supervisor at " + socket.toAbsolutePath() + ": " + e.getMessage());
            return ExitCodes.RUNTIME;
        }
    }

    /**
     * A connection to the admin socket with the JDK's own Unix-domain channel: no native library to
     * load, so a {@code ctl} answers in 80 ms instead of 180 and unpacks no jffi stub into /tmp. The
     * path is a file's, as the supervisor's --ctl-socket is (a leading '@' is part of the name there too).
     */
    private static SocketChannel connect(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
            return ch;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    private static String readAll(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        StringBuilder out = new StringBuilder();
        while (ch.read(buf) >= 0) {
            buf.flip();
            out.append(StandardCharsets.UTF_8.decode(buf));
            buf.clear();
        }
        return out.toString();
    }
}
