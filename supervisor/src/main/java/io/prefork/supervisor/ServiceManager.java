package io.prefork.supervisor;

import java.time.Duration;

/**
 * What a service manager (systemd, through sd_notify) hears of the supervisor's life. The loop
 * decides when; an implementation only says it. Called on the loop thread only, so a frozen loop
 * falls silent, which is what makes the watchdog mean something.
 */
public interface ServiceManager {
    /** Start-up is over (the first generation is READY), or a reload is. */
    void ready(String status);

    /** A reload begins; {@code monotonicNanos} is CLOCK_MONOTONIC now, as Type=notify-reload wants it. */
    void reloading(long monotonicNanos, String status);

    void stopping(String status);

    void status(String status);

    void watchdog();

    /** Start-up, a reload or a stop is still making progress: give it {@code more} time. */
    void extendTimeout(Duration more);

    /** How often to send {@link #watchdog()}; zero when no watchdog is armed. */
    Duration watchdogInterval();

    /** An upgrade handed over: {@code pid} is the service's main process from now on. */
    default void mainPid(long pid) {
    }

    ServiceManager NONE = new ServiceManager() {
        @Override
        public void ready(String status) {
        }

        @Override
        public void reloading(long monotonicNanos, String status) {
        }

        @Override
        public void stopping(String status) {
        }

        @Override
        public void status(String status) {
        }

        @Override
        public void watchdog() {
        }

        @Override
        public void extendTimeout(Duration more) {
        }

        @Override
        public Duration watchdogInterval() {
            return Duration.ZERO;
        }
    };
}
