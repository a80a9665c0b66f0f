package io.prefork.it.apps;

import io.prefork.examples.PlainApp;
import io.prefork.worker.Prefork;

/**
 * Says it is ready as soon as it has its channel, before it accepts anything, as Spring Boot's
 * readiness does once Tomcat has started on the inherited channel; then serves as PlainApp.
 */
public final class ReadyEarlyApp {
    private ReadyEarlyApp() {
    }

    public static void main(String[] args) throws Exception {
        System.inheritedChannel();
        Prefork.ready();
        PlainApp.main(args);
    }
}
