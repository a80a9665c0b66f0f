package io.prefork.supervisor;

import java.time.Duration;

/**
 * The service manager of a supervisor started by an upgrade: the first READY (all workers of the
 * first generation) is when it takes over from the old supervisor. Everything is passed on to
 * systemd as usual; systemd listens to it once the old one has sent MAINPID.
 */
final class TakeOverWhenReady implements ServiceManager {
    private final ServiceManager inner;
    private Runnable takeOver;

    TakeOverWhenReady(ServiceManager inner, Runnable takeOver) {
        this.inner = inner;
        this.takeOver = takeOver;
    }

    @Override
    public void ready(String status) {
        if (takeOver != null) {
            Runnable once = takeOver;
            takeOver = null;
            once.run();
        }
        inner.ready(status);
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
