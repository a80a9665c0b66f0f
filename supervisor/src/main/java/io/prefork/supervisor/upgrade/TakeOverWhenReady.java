package io.prefork.supervisor.upgrade;

import io.prefork.supervisor.ServiceManager;
import java.time.Duration;

/**
 * The service manager of a supervisor started by an upgrade: the first READY (all workers of the
 * first generation) is when it takes over from the old supervisor. Until then systemd hears nothing
 * from it: the old supervisor is the service's main process, and with NotifyAccess=main systemd
 * would refuse (and log) every message. After, everything is passed on as usual.
 */
public final class TakeOverWhenReady implements ServiceManager {
    private final ServiceManager inner;
    private Runnable takeOver;

    public TakeOverWhenReady(ServiceManager inner, Runnable takeOver) {
        this.inner = inner;
        this.takeOver = takeOver;
    }

    private boolean tookOver() {
        return takeOver == null;
    }

    @Override
    public void ready(String status) {
        if (!tookOver()) {
            Runnable once = takeOver;
            takeOver = null;
            once.run();
        }
        inner.ready(status);
    }

    @Override
    public void reloading(long monotonicNanos, String status) {
        if (tookOver()) {
            inner.reloading(monotonicNanos, status);
        }
    }

    @Override
    public void stopping(String status) {
        if (tookOver()) {
            inner.stopping(status);
        }
    }

    @Override
    public void status(String status) {
        if (tookOver()) {
            inner.status(status);
        }
    }

    @Override
    public void watchdog() {
        if (tookOver()) {
            inner.watchdog();
        }
    }

    @Override
    public void extendTimeout(Duration more) {
        if (tookOver()) {
            inner.extendTimeout(more);
        }
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
