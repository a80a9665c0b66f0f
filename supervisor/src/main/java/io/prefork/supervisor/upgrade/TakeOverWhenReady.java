package io.prefork.supervisor.upgrade;

import io.prefork.supervisor.ForwardingServiceManager;
import io.prefork.supervisor.ServiceManager;
import java.time.Duration;

/**
 * The service manager of a supervisor started by an upgrade: the first READY (all workers of the
 * first generation) is when it takes over from the old supervisor. Until then systemd hears nothing
 * from it: the old supervisor is the service's main process, and with NotifyAccess=main systemd
 * would refuse (and log) every message. After, everything is passed on as usual.
 */
public final class TakeOverWhenReady extends ForwardingServiceManager {
    private Runnable takeOver;

    public TakeOverWhenReady(ServiceManager inner, Runnable takeOver) {
        super(inner);
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
        super.ready(status);
    }

    @Override
    public void reloading(long monotonicNanos, String status) {
        if (tookOver()) {
            super.reloading(monotonicNanos, status);
        }
    }

    @Override
    public void stopping(String status) {
        if (tookOver()) {
            super.stopping(status);
        }
    }

    @Override
    public void status(String status) {
        if (tookOver()) {
            super.status(status);
        }
    }

    @Override
    public void watchdog() {
        if (tookOver()) {
            super.watchdog();
        }
    }

    @Override
    public void extendTimeout(Duration more) {
        if (tookOver()) {
            super.extendTimeout(more);
        }
    }
}
