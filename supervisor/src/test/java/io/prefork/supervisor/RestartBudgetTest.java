package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.WorkerExitCodes;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RestartBudgetTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);

    @Test
    void moreThanMaxWithinTheWindowIsOverWithASummaryOfCauses() {
        RestartBudget budget = new RestartBudget();
        Duration window = Duration.ofSeconds(10);
        assertNull(budget.record(0, "killed by SIGKILL (possibly out of memory)", 3, window));
        assertNull(budget.record(S, "exited with code 1", 3, window));
        assertNull(budget.record(2 * S, "killed by SIGKILL (possibly out of memory)", 3, window));
        assertEquals("4 unplanned worker restarts within 10 s (--max-restarts 3): "
                        + "3 killed by SIGKILL (possibly out of memory), 1 exited with code 1",
                budget.record(3 * S, "killed by SIGKILL (possibly out of memory)", 3, window));
    }

    @Test
    void restartsOlderThanTheWindowNoLongerCount() {
        RestartBudget budget = new RestartBudget();
        Duration window = Duration.ofSeconds(10);
        for (int i = 0; i < 20; i++) {
            assertNull(budget.record(i * 4 * S, "exited with code 1", 3, window), "one every 4 s: at most 3 in 10 s");
        }
    }

    @Test
    void zeroMeansNoBudget() {
        RestartBudget budget = new RestartBudget();
        for (int i = 0; i < 100; i++) {
            assertNull(budget.record(i, "exited with code 1", 0, Duration.ofSeconds(60)));
        }
    }

    @Test
    void theSupervisorStopsAndExitsFourWhenOverBudget() throws Exception {
        Fakes.Clock clock = new Fakes.Clock();
        Fakes.Launcher launcher = new Fakes.Launcher();
        Fakes.Lines lines = new Fakes.Lines();
        Supervisor supervisor = new Supervisor(Settings.defaults(1)
                .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ZERO)
                .withRestartBudget(2, Duration.ofSeconds(10)),
                java.util.List.of(new Handoff("127.0.0.1:8080", 7)), launcher, clock, lines.log);
        supervisor.step(0);
        for (int i = 0; i < 3; i++) {
            Fakes.Process p = launcher.last();
            Fakes.Connection c = new Fakes.Connection(p.pid);
            supervisor.post(new Event.Hello(c, p.token));
            supervisor.post(new Event.Message(c, io.prefork.protocol.ControlMessage.of(io.prefork.protocol.MessageType.READY)));
            supervisor.step(0);
            clock.advanceMillis(100);
            p.exit(i == 1 ? WorkerExitCodes.OUT_OF_MEMORY : 137);
            supervisor.step(0);
            clock.advanceMillis(500);
            supervisor.step(0);
        }
        assertEquals(3, launcher.launched.size(), "no fourth worker");
        assertEquals("3 unplanned worker restarts within 10 s (--max-restarts 2): 2 killed by SIGKILL (possibly out of memory),"
                + " 1 exited with code 3 (out of memory: -XX:+ExitOnOutOfMemoryError)", supervisor.failure());
        assertTrue(lines.text().contains("graceful stop (too many restarts)"), lines.text());
        assertEquals(false, supervisor.step(0), "nothing left to run: the loop ends");
        assertEquals(ExitCodes.TOO_MANY_RESTARTS, supervisor.run());
    }
}
