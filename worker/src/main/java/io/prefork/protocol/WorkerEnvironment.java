package io.prefork.protocol;

/** Environment variables the supervisor sets for each worker JVM it starts. */
public final class WorkerEnvironment {
    /** Path of the supervisor's control socket. */
    public static final String CONTROL_SOCKET = "PREFORK_CONTROL_SOCKET";
    /**
     * "1" when scripts/prefork started this worker beside the supervisor's JVM, from the command the
     * last start wrote down (FirstWorker, in the supervisor): the settings of this start,
     * {@link #CONTROL_SOCKET}, {@link #TOKEN} and {@link #MAX_REQUESTS}, come on stdin once the supervisor
     * takes the worker, one NAME=value line each and then an empty line. End of file first: the
     * supervisor ended before it took it, and the worker exits.
     */
    public static final String STARTED_BESIDE = "PREFORK_STARTED_BESIDE";
    /** One-time token the worker presents in HELLO. Never logged, never on a command line. */
    public static final String TOKEN = "PREFORK_TOKEN";
    /** The worker's slot number, 1..N. */
    public static final String WORKER_ID = "PREFORK_WORKER_ID";
    /** {@code auto} (the worker library detects when the app accepts) or {@code app} (the app calls ready()). */
    public static final String READY_MODE = "PREFORK_READY";

    /** The supervisor's --graceful-timeout in ms: what a worker allows itself on a SIGTERM of its own. */
    public static final String GRACEFUL_TIMEOUT_MS = "PREFORK_GRACEFUL_TIMEOUT_MS";

    /** After this many requests (as counted by Prefork.requestDone()) the worker asks to be recycled; absent: never. */
    public static final String MAX_REQUESTS = "PREFORK_MAX_REQUESTS";
    /** Milliseconds between heartbeats. */
    public static final String HEARTBEAT_MS = "PREFORK_HEARTBEAT_MS";
    /** The supervisor's log file, which the worker's stdout and stderr are appended to; absent: inherited. */
    public static final String LOG_FILE = "PREFORK_LOG_FILE";
    /** --warmup-requests: how many requests the app's warm-up runs before the worker takes real ones; absent: none. */
    public static final String WARMUP_REQUESTS = "PREFORK_WARMUP_REQUESTS";
    /** --warmup-path: the path each warm-up request asks for. */
    public static final String WARMUP_PATH = "PREFORK_WARMUP_PATH";
    /**
     * "false" when listener 0 is a unix socket: an app that takes {@code System.inheritedChannel()}
     * would not take a TCP listener in its place, so it gets no private loopback listener to warm up
     * (or serve the training requests) on, and only an app's warm-up hook runs them. Absent: true.
     */
    public static final String WARMUP_LISTENER = "PREFORK_WARMUP_LISTENER";
    /** Not a variable: how many client threads send the warm-up requests at once (the help says it too). */
    public static final int WARMUP_CLIENTS = 16;
    /**
     * A system property (not a variable), set only in the class archive's training run, which boots
     * like a spare, never takes a real connection, and is stopped once it waits for its listeners. Its
     * value is --training-requests: how many requests to --warmup-path it serves first (through the
     * app's warm-up hook, or else on a private loopback listener it gets as its only one), so that
     * the archive holds the classes a request loads too.
     */
    public static final String TRAINING_PROPERTY = "prefork.training";

    private WorkerEnvironment() {
    }
}
