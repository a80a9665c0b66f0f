package io.prefork.supervisor;

import java.util.concurrent.ThreadFactory;

/**
 * The supervisor's background threads. Each is a daemon, so that none holds the JVM up: only the
 * loop decides when the supervisor exits. Each is named, so a thread dump says what it is.
 */
public final class Daemons {
    private Daemons() {
    }

    public static Thread start(String name, Runnable body) {
        Thread t = named(name).newThread(body);
        t.start();
        return t;
    }

    public static ThreadFactory named(String name) {
        return body -> {
            Thread t = new Thread(body, name);
            t.setDaemon(true);
            return t;
        };
    }
}
