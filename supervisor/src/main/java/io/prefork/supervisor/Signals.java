package io.prefork.supervisor;

import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Installs the supervisor's signal handlers through the JVM's own dispatch thread. A handler only
 * enqueues: no logging, no locks, no decisions (gunicorn deadlocked doing more, see b650332c).
 */
final class Signals {
    static final List<String> HANDLED = List.of("TERM", "INT", "HUP", "TTIN", "TTOU", "WINCH", "USR1", "USR2");

    private Signals() {
    }

    static void install(Consumer<Event> sink, Log log) {
        for (String name : HANDLED) {
            try {
                SignalHandler previous = Signal.handle(new Signal(name), s -> sink.accept(new Event.SignalReceived(name)));
                // A signal ignored when the JVM started (nohup, background job) cannot be handled:
                // the JVM keeps SIG_IGN and tells us so only through the returned handler.
                if (previous == SignalHandler.SIG_IGN) {
                    log.warn("SIG" + name + " was ignored when prefork started (nohup or a background job?); it will have no effect");
                }
            } catch (IllegalArgumentException e) {
                log.warn("cannot handle SIG" + name + ": " + e.getMessage());
            }
        }
    }
}
