package io.prefork.it.apps;

import io.prefork.examples.PlainApp;
import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.WorkerEnvironment;
import io.prefork.unix.FdPassing;
import java.io.IOException;
import java.util.List;

/**
 * A worker that turns on its supervisor: before serving, it opens two more control connections,
 * one with a made-up token and one replaying its own, already used, and prints what each got back.
 * The supervisor started this process, so only the one-time rules stand between it and more fds.
 * It probes once its own connection is made: the app's main starts beside that connection, and a
 * probe that came first would take the pid's one connection and the worker would die of it, which
 * is a worker hurting only itself, not what this app tests.
 */
public final class ImpostorApp {
    private ImpostorApp() {
    }

    public static void main(String[] args) throws IOException {
        if (io.prefork.worker.Prefork.workerId() == 0) {
            throw new IllegalStateException("not started by a prefork supervisor");
        }
        String socket = System.getenv(WorkerEnvironment.CONTROL_SOCKET);
        String wrong = probe(socket, "00000000000000000000000000000000");
        String replayed = probe(socket, System.getenv(WorkerEnvironment.TOKEN));
        System.out.println("impostor: wrong token -> " + wrong + "; replayed token -> " + replayed);
        PlainApp.main(args);
    }

    private static String probe(String socket, String token) {
        try {
            ControlSocket s = ControlSocket.connect(socket, FdPassing.INSTANCE);
            try {
                s.send(new ControlMessage(MessageType.HELLO, List.of(token)));
                ControlMessage answer = s.receive();
                List<Integer> fds = s.takeReceivedFds();
                return answer == null && fds.isEmpty() ? "closed, no fds" : "got " + answer + " and " + fds.size() + " fd(s)";
            } finally {
                s.close();
            }
        } catch (IOException e) {
            return "closed, no fds";  // reset: it closed without reading what we sent
        }
    }
}
