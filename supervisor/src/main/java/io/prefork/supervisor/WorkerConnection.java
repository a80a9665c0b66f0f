package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import java.io.IOException;

/** The supervisor's end of one accepted control connection, with who the kernel says is on the other end. */
public interface WorkerConnection {
    long peerPid();

    int peerUid();

    void send(ControlMessage message) throws IOException;

    void sendWithFds(ControlMessage message, int[] fds) throws IOException;

    /** Ends the connection; safe to call more than once. */
    void close();
}
