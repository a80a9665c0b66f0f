package io.prefork.supervisor.boot;

import io.prefork.supervisor.ServiceManager;
import java.time.Duration;

/**
 * A service manager that also runs a task once, at the first READY (start-up is over: the first
 * generation serves), and passes everything on. What the start would only slow down goes there.
 */
final class AfterStartUp implements ServiceManager {
    private final ServiceManager inner;
    private Runnable task;

    AfterStartUp(ServiceManager inner, Runnable task) {
        this.inner = inner;
        this.task = task;
    }

    @Override
    public void ready(String status) {
        inner.ready(status);
        if (task != null) {
            Runnable once = task;
            task = null;
            once.run();
        }
    }

    @Override
    public void reloading(long monotonicNanos, String status) {
        inner.reloading(monotonicNanos, status);
    }

    @Override
    public void stopping(String status) {
        inner.stopping(status);
    }

    @Override
    public void status(String status) {
        inner.status(status);
    }

    @Override
    public void watchdog() {
        inner.watchdog();
    }

    @Override
    public void extendTimeout(Duration more) {
        inner.extendTimeout(more);
    }

    @Override
    public Duration watchdogInterval() {
        return inner.watchdogInterval();
    }

    @Override
    public void mainPid(long pid) {
        inner.mainPid(pid);
    }
}
