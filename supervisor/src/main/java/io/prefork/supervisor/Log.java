package io.prefork.supervisor;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One line per event: time, the supervisor's pid, level, message. Goes to stderr by default (fd 2,
 * which --log-file points at the file). A line that cannot be written (a full disk) is counted, not
 * fatal: service goes on, and the first line that can be written again is preceded by one saying how
 * many were lost and why.
 */
public final class Log {
    private final PrintStream out;
    /** Fd 2 itself, so that a failed write is seen (a PrintStream would hide it); null when {@link #out} is used. */
    private final OutputStream raw;
    private final String prefix;
    private long lost;
    private String lostBecause;

    public Log(PrintStream out) {
        this(out, null);
    }

    private Log(PrintStream out, OutputStream raw) {
        this.out = out;
        this.raw = raw;
        this.prefix = " prefork[" + ProcessHandle.current().pid() + "] ";
    }

    public static Log stderr() {
        return new Log(null, new FileOutputStream(FileDescriptor.err));
    }

    public void info(String message) {
        write("INFO ", message);
    }

    public void warn(String message) {
        write("WARN ", message);
    }

    public void error(String message) {
        write("ERROR ", message);
    }

    private synchronized void write(String level, String message) {
        String line = Instant.now() + prefix + level + message;
        if (raw == null) {
            out.println(line);
            return;
        }
        try {
            if (lost > 0) {
                raw.write(bytes(Instant.now() + prefix + "WARN " + lost + " log line(s) before this one could not be"
                        + " written (" + lostBecause + "); service went on"));
                lost = 0;
            }
            raw.write(bytes(line));
        } catch (IOException e) {
            if (lost++ == 0) {
                lostBecause = e.getMessage();
            }
        }
    }

    private static byte[] bytes(String line) {
        return (line + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
