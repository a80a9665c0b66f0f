package io.prefork.supervisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A service manager for tests: records every call as one line, e.g. "READY 2/2 workers READY". */
public final class RecordingServiceManager implements ServiceManager {
    public final List<String> said = new ArrayList<>();
    public Duration watchdog = Duration.ZERO;

    @Override
    public void ready(String status) {
        said.add("READY " + status);
    }

    @Override
    public void reloading(long monotonicNanos, String status) {
        said.add("RELOADING " + monotonicNanos);
    }

    @Override
    public void stopping(String status) {
        said.add("STOPPING " + status);
    }

    @Override
    public void status(String status) {
        said.add("STATUS " + status);
    }

    @Override
    public void watchdog() {
        said.add("WATCHDOG");
    }

    @Override
    public void extendTimeout(Duration more) {
        said.add("EXTEND " + more.toSeconds());
    }

    @Override
    public Duration watchdogInterval() {
        return watchdog;
    }

    @Override
    public void mainPid(long pid) {
        said.add("MAINPID " + pid);
    }

    List<String> kinds() {
        return said.stream().map(s -> s.split(" ")[0]).toList();
    }

    long count(String kind) {
        return kinds().stream().filter(kind::equals).count();
    }
}
