package io.prefork.supervisor;

/** The supervisor's exit codes. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A runtime failure: port in use, unwritable pid file, native calls unavailable. */
    public static final int RUNTIME = 1;
    /** Bad command line. */
    public static final int USAGE = 2;
    /** Workers kept failing before they became READY; like gunicorn's "worker failed to boot". */
    public static final int WORKERS_FAILED_TO_BOOT = 3;
    /** More unplanned worker restarts than --max-restarts within --restart-window. */
    public static final int TOO_MANY_RESTARTS = 4;

    private ExitCodes() {
    }
}
