package io.prefork.supervisor;

import java.io.PrintStream;
import java.time.Instant;

/** One line per event: time, the supervisor's pid, level, message. Goes to stderr by default. */
public final class Log {
    private final PrintStream out;
    private final String prefix;

    public Log(PrintStream out) {
        this.out = out;
        this.prefix = " prefork[" + ProcessHandle.current().pid() + "] ";
    }

    public static Log stderr() {
        return new Log(System.err);
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

    private void write(String level, String message) {
        out.println(Instant.now() + prefix + level + message);
    }
}
