package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each worker process has one role, and the class archive's training run is named as what it is. */
class WorkerRoleTest {
    @Test
    void theTrainingRunIsATrainerNotASpare() throws Exception {
        List<Event> events = new ArrayList<>();
        WorkerPool pool = new WorkerPool(1, 0, events::add, new ControlAdmission());
        Fakes.Launcher launcher = new Fakes.Launcher();
        Supervisor.Settings settings = Supervisor.Settings.defaults(1);
        Worker trainer = pool.launchTrainer(launcher, settings, 0);
        Worker spare = pool.launchSpare(launcher, settings, 0);
        Worker retiring = pool.launch(launcher, settings, 1, 0);  // holds no slot: what a replaced worker is
        assertEquals("trainer (pid " + trainer.pid() + ")", trainer.toString());
        assertEquals("spare (pid " + spare.pid() + ")", spare.toString());
        List<String> roles = pool.status(0).stream().map(StatusReport.Row::role).toList();
        assertEquals(List.of("trainer", "spare", "retiring"), roles);
    }
}
