package io.prefork.supervisor;

import io.prefork.protocol.WorkerExitCodes;

/** Decodes a worker's exit value once, for every log line and decision that needs it. */
public final class ExitStatus {
    private static final String[] SIGNALS = {null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
        "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
        "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};
    private static final int SIGKILL = 9;

    private ExitStatus() {
    }

    /** As {@link #describe(int, boolean)}, for an exit the supervisor did not cause. */
    public static String describe(int exitValue) {
        return describe(exitValue, false);
    }

    /**
     * The JDK reports death by signal N as 128+N, which {@code exit(128+N)} would look the same as;
     * prefork workers keep their own codes below 128, so 129..159 is read as a signal. A SIGKILL
     * the supervisor did not send most often comes from the kernel's OOM killer, so it says so.
     */
    public static String describe(int exitValue, boolean killedBySupervisor) {
        int signal = signal(exitValue);
        if (signal > 0) {
            return "killed by SIG" + SIGNALS[signal]
                    + (signal == SIGKILL && !killedBySupervisor ? " (possibly out of memory)" : "");
        }
        String meaning = WorkerExitCodes.describe(exitValue);
        return "exited with code " + exitValue + (meaning == null ? "" : " (" + meaning + ")");
    }

    /** The signal number for a death by signal, else 0. */
    public static int signal(int exitValue) {
        int signal = exitValue - 128;
        return signal > 0 && signal < SIGNALS.length ? signal : 0;
    }

    public static String signalName(int exitValue) {
        int signal = signal(exitValue);
        return signal > 0 ? "SIG" + SIGNALS[signal] : null;
    }
}
