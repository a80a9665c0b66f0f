package io.prefork.supervisor;

import java.time.Duration;

/** A service manager that passes everything on to another; a decorator overrides what it changes. */
public class ForwardingServiceManager implements ServiceManager {
    private final ServiceManager inner;

    public ForwardingServiceManager(ServiceManager inner) {
        this.inner = inner;
    }

    @Override
    public void ready(String status) {
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
