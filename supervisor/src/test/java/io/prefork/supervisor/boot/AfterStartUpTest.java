package io.prefork.supervisor.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prefork.supervisor.ServiceManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The task runs once, after the first READY has been passed on; everything is passed on. */
class AfterStartUpTest {
    private final List<String> heard = new ArrayList<>();

    private final ServiceManager recorder = new ServiceManager() {
        @Override
        public void ready(String status) {
            heard.add("ready " + status);
        }

        @Override
        public void reloading(long monotonicNanos, String status) {
            heard.add("reloading " + status);
        }

        @Override
        public void stopping(String status) {
            heard.add("stopping " + status);
        }

        @Override
        public void status(String status) {
            heard.add("status " + status);
        }

        @Override
        public void watchdog() {
            heard.add("watchdog");
        }

        @Override
        public void extendTimeout(Duration more) {
            heard.add("extend " + more.toMillis());
        }

        @Override
        public Duration watchdogInterval() {
            return Duration.ofSeconds(7);
        }

        @Override
        public void mainPid(long pid) {
            heard.add("mainpid " + pid);
        }
    };

    @Test
    void theTaskRunsOnceAtTheFirstReadyAndEverythingIsPassedOn() {
        AfterStartUp manager = new AfterStartUp(recorder, () -> heard.add("task"));
        manager.status("booting");
        manager.extendTimeout(Duration.ofSeconds(1));
        manager.watchdog();
        manager.ready("2 ready");
        manager.reloading(5, "reloading: 2 ready");
        manager.ready("2 ready");
        manager.mainPid(42);
        manager.stopping("stopping");
        assertEquals(List.of("status booting", "extend 1000", "watchdog", "ready 2 ready", "task",
                "reloading reloading: 2 ready", "ready 2 ready", "mainpid 42", "stopping stopping"), heard);
        assertEquals(Duration.ofSeconds(7), manager.watchdogInterval());
    }
}
