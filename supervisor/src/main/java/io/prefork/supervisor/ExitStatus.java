package io.prefork.supervisor;

import io.prefork.protocol.WorkerExitCodes;

/** Decodes a worker's exit value once, for every log line and decision that needs it. */
public final class ExitStatus {
    private static final String[] SIGNALS = {null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
        "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
        "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};

    private ExitStatus() {
    }

    /**
     * The JDK reports death by signal N as 128+N, which {@code exit(128+N)} would look the same as;
     * prefork workers keep their own codes below 128, so 129..159 is read as a signal.
     */
    public static String describe(int exitValue) {
        int signal = exitValue - 128;
        if (signal > 0 && signal < SIGNALS.length) {
            return "killed by SIG" + SIGNALS[signal];
        }
        String meaning = WorkerExitCodes.describe(exitValue);
        return "exited with code " + exitValue + (meaning == null ? "" : " (" + meaning + ")");
    }
}
