package io.prefork.supervisor.boot;

import io.prefork.supervisor.Event;
import io.prefork.supervisor.HandledSignal;
import io.prefork.supervisor.Log;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Installs the supervisor's signal handlers through the JVM's own dispatch thread. A handler only
 * enqueues: no logging, no locks, no decisions (gunicorn deadlocked doing more, see b650332c).
 */
public final class Signals {
    private Signals() {
    }

    static void install(Consumer<Event> sink, Log log) {
        for (HandledSignal signal : HandledSignal.values()) {
            String name = signal.name();
            try {
                SignalHandler previous = Signal.handle(new Signal(name), s -> sink.accept(new Event.SignalReceived(signal)));
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
