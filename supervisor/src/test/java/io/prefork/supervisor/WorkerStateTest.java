package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WorkerStateTest {
    @Test
    void transitionsOnlyGoForward() {
        for (WorkerState from : WorkerState.values()) {
            for (WorkerState to : WorkerState.values()) {
                if (from.canMoveTo(to)) {
                    assertTrue(from.compareTo(to) < 0, from + " -> " + to);
                }
            }
        }
    }

    @Test
    void aWorkerCannotBeReadyWithoutItsListenersNorLeaveExited() {
        assertFalse(WorkerState.STARTING.canMoveTo(WorkerState.READY));
        assertFalse(WorkerState.DRAINING.canMoveTo(WorkerState.READY));
        for (WorkerState s : WorkerState.values()) {
            assertFalse(WorkerState.EXITED.canMoveTo(s));
        }
    }

    @Test
    void anIllegalTransitionThrowsAndNamesTheWorker() {
        Fakes.Lines lines = new Fakes.Lines();
        Worker w = new Worker(3, WorkerRole.ACTIVE, "t", new Fakes.Process(4711, 3, "t"), 0, 0);
        w.transitionTo(WorkerState.EXITED, "killed by SIGKILL", lines.log);
        assertTrue(lines.text().contains("worker 3 (pid 4711): STARTING -> EXITED (killed by SIGKILL)"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> w.transitionTo(WorkerState.READY, null, lines.log));
        assertEquals("worker 3 (pid 4711): illegal transition EXITED -> READY", e.getMessage());
    }
}
