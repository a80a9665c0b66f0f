package io.prefork.supervisor;

/** A listener as the workers get it: the fd to pass and the address to tell. */
public record Handoff(String address, int fd) {
}
