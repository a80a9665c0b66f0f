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
    /** supervisor → worker: {@code STOP <millis>}: stop accepting, finish in-flight work, exit within millis. */
    STOP
}
