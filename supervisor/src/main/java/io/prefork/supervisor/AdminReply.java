package io.prefork.supervisor;

/** The answer to one admin command: text for the operator, and whether it worked. */
public record AdminReply(boolean ok, String text) {
    static AdminReply ok(String text) {
        return new AdminReply(true, text);
    }

    public static AdminReply error(String text) {
        return new AdminReply(false, text);
    }
}
