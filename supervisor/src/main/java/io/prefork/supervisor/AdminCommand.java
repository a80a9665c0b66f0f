package io.prefork.supervisor;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The admin commands, written once: what `prefork ctl` accepts, what the admin socket lets the
 * admin group run (the read-only ones), what the loop dispatches, and the usage text all come from here.
 */
public enum AdminCommand {
    STATUS("status [--json]", true),
    METRICS("metrics", true),
    RELOAD("reload", false),
    UPGRADE("upgrade", false),
    SCALE("scale N", false),
    STOP("stop [--fast]", false);

    private final String usage;
    private final boolean readOnly;

    AdminCommand(String usage, boolean readOnly) {
        this.usage = usage;
        this.readOnly = readOnly;
    }

    /** The word on the wire: {@code status}, {@code scale}, ... */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** May run for the admin group, not only for the supervisor's own user. */
    public boolean readOnly() {
        return readOnly;
    }

    /** Changes the set of workers or the supervisor itself, so it is refused once a stop has begun. */
    boolean refusedWhileStopping() {
        return this == RELOAD || this == UPGRADE || this == SCALE;
    }

    /** Why {@code scale} cannot run with these arguments, or null: it needs 1 to 1024 workers. */
    static String scaleRefusal(List<String> args) {
        try {
            int n = Integer.parseInt(args.isEmpty() ? "" : args.get(0));
            return n >= 1 && n <= 1024 ? null : "scale needs a number of workers from 1 to 1024, got " + n;
        } catch (NumberFormatException e) {
            return "scale needs a number of workers from 1 to 1024";
        }
    }

    public static Optional<AdminCommand> parse(String word) {
        return Arrays.stream(values()).filter(c -> c.word().equals(word)).findFirst();
    }

    /** {@code status [--json] | metrics | ... | stop [--fast]}. */
    public static String usage(String separator) {
        return Arrays.stream(values()).map(c -> c.usage).collect(Collectors.joining(separator));
    }

    /** The words of the commands with {@code readOnly}, comma-separated. */
    public static String words(boolean readOnly) {
        return Arrays.stream(values()).filter(c -> c.readOnly == readOnly).map(AdminCommand::word)
                .collect(Collectors.joining(", "));
    }
}
