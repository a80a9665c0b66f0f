package io.prefork.supervisor;

/** The lifecycle of one worker JVM, in transition order. */
public enum WorkerState {
    /** The JVM is starting; it has not said HELLO yet. */
    STARTING,
    /** A hot spare: it said HELLO and boots its app, but has no sockets until it is promoted. */
    SPARE,
    /** It said HELLO with its token and got the listeners; the app is booting. */
    BOOTING,
    /** It said READY: it serves, and it counts. */
    READY,
    /** It was asked to stop (STOP, or SIGTERM before it connected) and is finishing. */
    DRAINING,
    /** The process is gone. Terminal. */
    EXITED;

    public boolean canMoveTo(WorkerState next) {
        return switch (this) {
            case STARTING -> next == SPARE || next == BOOTING || next == DRAINING || next == EXITED;
            case SPARE -> next == BOOTING || next == DRAINING || next == EXITED;
            case BOOTING -> next == READY || next == DRAINING || next == EXITED;
            case READY -> next == DRAINING || next == EXITED;
            case DRAINING -> next == EXITED;
            case EXITED -> false;
        };
    }
}
