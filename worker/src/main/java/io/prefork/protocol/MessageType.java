package io.prefork.protocol;

/**
 * Every message on the control channel between the supervisor and a worker. One line each:
 * {@code TYPE arg arg...\n}. See the README's "Worker protocol" section.
 */
public enum MessageType {
    /** worker → supervisor, first line: {@code HELLO <token>}. Nothing is sent before it checks out. */
    HELLO,
    /** supervisor → worker: {@code FDS <address>...}, one SCM_RIGHTS fd per address, in order. */
    FDS,
    /** supervisor → worker, instead of FDS: you are a hot spare; boot the app, PROMOTE comes later. */
    SPARE,
    /** supervisor → spare: {@code PROMOTE <worker id> <address>...}, with the fds as for FDS: serve now. */
    PROMOTE,
    /** worker → supervisor: a spare's app is booted and waits in Prefork.listeners() for its sockets. */
    PARKED,
    /** worker → supervisor: the app serves; the worker now counts as READY. */
    READY,
    /** worker → supervisor: {@code BOOT_ERROR <reason>}, just before the worker exits during boot. */
    BOOT_ERROR,
    /**
     * worker → supervisor: {@code HEARTBEAT <requests> [<heap-used> <heap-max>]} (bytes), every second;
     * a READY worker silent for --timeout is killed.
     */
    HEARTBEAT,
    /** worker → supervisor: {@code WARMED <requests> <millis>}, once: the app's warm-up ran before any real request. */
    WARMED,
    /** worker → supervisor: {@code RECYCLE <requests>}: it reached its request limit; replace it (it keeps serving). */
    RECYCLE,
    /**
     * supervisor → worker: {@code STOP <millis> [close-idle]}: stop accepting, finish in-flight work,
     * exit within millis. With {@link #CLOSE_IDLE}, the server was out of rotation for its lame-duck
     * period: no balancer sends on a kept-alive connection any more, so end each one once it is idle.
     */
    STOP,
    /** supervisor → worker: reopen the log file (after logrotate moved it). */
    REOPEN,

    // The upgrade handoff, between an old supervisor and the new one it started (PROTOCOL.md).
    /**
     * old → new supervisor, before LISTENERS: {@code SLOT_LISTENERS <slot> <address>...}, one fd per
     * address: the sockets of a worker slot past the first that has its own (--balance reuseport).
     */
    SLOT_LISTENERS,
    /** old → new supervisor: {@code LISTENERS <address>...}, one SCM_RIGHTS fd per address: serve these. */
    LISTENERS,
    /** new → old supervisor: {@code FAILED <reason>}: it gives up before READY; the old one keeps serving. */
    FAILED;

    /** {@link #STOP}'s second argument, after a lame-duck period: end each kept-alive connection once idle. */
    public static final String CLOSE_IDLE = "close-idle";
}
