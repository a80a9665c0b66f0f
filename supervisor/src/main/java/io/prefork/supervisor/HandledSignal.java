package io.prefork.supervisor;

/**
 * The signals the supervisor handles, in the order of the README's Signals table. Handlers only
 * enqueue one of these; the loop decides (Supervisor.onSignal).
 */
public enum HandledSignal {
    TERM, INT, HUP, TTIN, TTOU, WINCH, USR1, USR2;

    /** Still acts once a stop has begun: only a stop, or a faster one. */
    boolean actsWhileStopping() {
        return this == TERM || this == INT;
    }

    @Override
    public String toString() {
        return "SIG" + name();
    }
}
