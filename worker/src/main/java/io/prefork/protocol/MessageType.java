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
    /** worker → supervisor: the app serves; the worker now counts as READY. */
    READY,
    /** worker → supervisor: {@code BOOT_ERROR <reason>}, just before the worker exits during boot. */
    BOOT_ERROR,
    /** worker → supervisor: {@code HEARTBEAT <requests>}, every second; a READY worker silent for --timeout is killed. */
    HEARTBEAT,
    /** worker → supervisor: {@code RECYCLE <requests>}: it reached its request limit; replace it (it keeps serving). */
    RECYCLE,
    /** supervisor → worker: {@code STOP <millis>}: stop accepting, finish in-flight work, exit within millis. */
    STOP,
    /** supervisor → worker: reopen the log file (after logrotate moved it). */
    REOPEN
}
