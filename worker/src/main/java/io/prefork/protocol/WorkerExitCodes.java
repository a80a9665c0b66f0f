package io.prefork.protocol;

/**
 * Exit codes a worker JVM uses to tell the supervisor why it ended. Codes from 128 up mean "killed
 * by signal code-128", as the JDK reports them, so these stay small. 1 is what a JVM exits with when
 * a main thread dies of an uncaught exception, and 3 is the JVM's own code for
 * {@code -XX:+ExitOnOutOfMemoryError}, so prefork's own codes start at 10.
 */
public final class WorkerExitCodes {
    /** Started by hand, not by the supervisor. */
    public static final int USAGE = 2;
    /** The JVM ran out of memory and -XX:+ExitOnOutOfMemoryError (on by default for workers) ended it. */
    public static final int OUT_OF_MEMORY = 3;
    /** The app's main threw. */
    public static final int APP_FAILED = 10;
    /** The app class (or its main method) was not found. */
    public static final int APP_NOT_FOUND = 11;
    /** The worker could not talk to the supervisor: no socket, bad handshake, no listeners. */
    public static final int NO_SUPERVISOR = 12;
    /** The drain did not finish within the deadline the supervisor gave; the worker halted itself. */
    public static final int STOP_TIMEOUT = 13;

    private WorkerExitCodes() {
    }

    /** A short reason for a code this contract defines, or null. */
    public static String describe(int code) {
        return switch (code) {
            case OUT_OF_MEMORY -> "out of memory: -XX:+ExitOnOutOfMemoryError";
            case APP_FAILED -> "the app's main threw";
            case APP_NOT_FOUND -> "app class not found";
            case NO_SUPERVISOR -> "could not talk to the supervisor";
            case STOP_TIMEOUT -> "did not stop within its deadline";
            default -> null;
        };
    }
}
