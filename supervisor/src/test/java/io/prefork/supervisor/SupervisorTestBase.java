package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.time.Duration;
import java.util.List;

/** Drives a Supervisor through fakes: a fake clock, fake worker processes, fake control connections. */
abstract class SupervisorTestBase {
    /** Most tests start every slot in the same step; the machine's bound on JVMs booting at once has a test of its own. */
    static final int ALL_AT_ONCE = Integer.MAX_VALUE;
    final Fakes.Clock clock = new Fakes.Clock();
    final Fakes.Launcher launcher = new Fakes.Launcher();
    final Fakes.Lines lines = new Fakes.Lines();
    Supervisor supervisor;

    Supervisor start(int workers) throws InterruptedException {
        return start(Settings.defaults(workers)
                .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ZERO).withBootsAtOnce(ALL_AT_ONCE));
    }

    Supervisor start(Settings settings) throws InterruptedException {
        supervisor = new Supervisor(settings, List.of(new Handoff("127.0.0.1:8080", 7),
                new Handoff("unix:/run/a b.sock", 9)), launcher, clock, lines.log);
        supervisor.step(0);
        return supervisor;
    }

    boolean step() throws InterruptedException {
        return supervisor.step(0);
    }

    /** Plays a worker: hello with its token from its own pid, then READY. */
    Fakes.Connection bringUp(Fakes.Process p) throws InterruptedException {
        Fakes.Connection c = new Fakes.Connection(p.pid);
        supervisor.post(new Event.Hello(c, p.token));
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.READY)));
        step();
        return c;
    }

    Worker worker(long pid) {
        return List.copyOf(supervisor.pool().workers()).stream().filter(w -> w.pid() == pid).findFirst().orElse(null);
    }

    boolean logged(String text) {
        return lines.text().contains(text);
    }
}
