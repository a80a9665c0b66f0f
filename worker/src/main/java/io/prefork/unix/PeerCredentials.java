package io.prefork.unix;

/** The kernel's word on who is at the other end of a Unix socket (SO_PEERCRED). */
public record PeerCredentials(int pid, int uid, int gid) {
}
