package io.prefork.supervisor.boot;

import io.prefork.supervisor.ForwardingServiceManager;
import io.prefork.supervisor.ServiceManager;

/**
 * A service manager that also runs a task once, at the first READY (start-up is over: the first
 * generation serves). What the start would only slow down goes there.
 */
final class AfterStartUp extends ForwardingServiceManager {
    private Runnable task;

    AfterStartUp(ServiceManager inner, Runnable task) {
        super(inner);
        this.task = task;
    }

    @Override
    public void ready(String status) {
        super.ready(status);
        if (task != null) {
            Runnable once = task;
            task = null;
            once.run();
        }
    }
}
