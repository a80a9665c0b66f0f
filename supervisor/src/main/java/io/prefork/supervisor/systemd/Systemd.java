package io.prefork.supervisor.systemd;

import io.prefork.supervisor.Log;
import io.prefork.supervisor.ServiceManager;
import java.time.Duration;
import java.util.Map;

/** {@link ServiceManager} for systemd: each call is one sd_notify datagram. */
public final class Systemd implements ServiceManager {
    private final SdNotify notify;
    private final Duration watchdogInterval;

    Systemd(SdNotify notify, Duration watchdogInterval) {
        this.notify = notify;
        this.watchdogInterval = watchdogInterval;
    }

    /**
     * Null unless NOTIFY_SOCKET is set. The watchdog is armed by WATCHDOG_USEC (and WATCHDOG_PID, if
     * set, must be us); pinging at half the period is what sd_watchdog_enabled(3) recommends.
     */
    /** A watchdog period longer than a year is not one (and in nanoseconds would overflow soon after). */
    static final long MAX_WATCHDOG_MICROS = Duration.ofDays(365).toNanos() / 1000;

    public static Systemd fromEnvironment(Map<String, String> env, long pid, Log log) {
        SdNotify notify = SdNotify.fromEnvironment(env, log);
        if (notify == null) {
            return null;
        }
        Duration interval = Duration.ZERO;
        String usec = env.get("WATCHDOG_USEC");
        String watchdogPid = env.get("WATCHDOG_PID");
        if (usec != null && (watchdogPid == null || watchdogPid.equals(Long.toString(pid)))) {
            try {
                long micros = Long.parseLong(usec.trim());
                if (micros <= 0 || micros > MAX_WATCHDOG_MICROS) {
                    log.warn("ignoring WATCHDOG_USEC='" + usec + "': not between 1 and " + MAX_WATCHDOG_MICROS);
                } else {
                    interval = Duration.ofNanos(micros * 1000 / 2);
                }
            } catch (NumberFormatException e) {
                log.warn("ignoring WATCHDOG_USEC='" + usec + "': not a number");
            }
        }
        return new Systemd(notify, interval);
    }

    public SdNotify notifier() {
        return notify;
    }

    @Override
    public void ready(String status) {
        notify.send("READY=1\nSTATUS=" + status);
    }

    @Override
    public void reloading(long monotonicNanos, String status) {
        notify.send("RELOADING=1\nMONOTONIC_USEC=" + monotonicNanos / 1000 + "\nSTATUS=" + status);
    }

    @Override
    public void stopping(String status) {
        notify.send("STOPPING=1\nSTATUS=" + status);
    }

    @Override
    public void status(String status) {
        notify.send("STATUS=" + status);
    }

    @Override
    public void watchdog() {
        notify.send("WATCHDOG=1");
    }

    @Override
    public void extendTimeout(Duration more) {
        notify.send("EXTEND_TIMEOUT_USEC=" + more.toNanos() / 1000);
    }

    /** Sent by the old main process, which NotifyAccess=main still allows: systemd then follows the new one. */
    @Override
    public void mainPid(long pid) {
        notify.send("MAINPID=" + pid);
    }

    @Override
    public Duration watchdogInterval() {
        return watchdogInterval;
    }
}
