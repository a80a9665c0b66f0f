package io.prefork.supervisor.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prefork.supervisor.RecordingServiceManager;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The task runs once, after the first READY has been passed on; everything is passed on. */
class AfterStartUpTest {
    @Test
    void theTaskRunsOnceAtTheFirstReadyAndEverythingIsPassedOn() {
        RecordingServiceManager recorder = new RecordingServiceManager();
        recorder.watchdog = Duration.ofSeconds(7);
        AfterStartUp manager = new AfterStartUp(recorder, () -> recorder.said.add("TASK"));
        manager.status("booting");
        manager.extendTimeout(Duration.ofSeconds(1));
        manager.watchdog();
        manager.ready("2 ready");
        manager.reloading(5, "reloading: 2 ready");
        manager.ready("2 ready");
        manager.mainPid(42);
        manager.stopping("stopping");
        assertEquals(List.of("STATUS booting", "EXTEND 1", "WATCHDOG", "READY 2 ready", "TASK", "RELOADING 5",
                "READY 2 ready", "MAINPID 42", "STOPPING stopping"), recorder.said);
        assertEquals(Duration.ofSeconds(7), manager.watchdogInterval());
    }
}
