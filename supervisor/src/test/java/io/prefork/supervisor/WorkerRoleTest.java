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
        Fakes.Launcher launcher = new Fakes.Launcher();
        WorkerPool pool = new WorkerPool(new Generation(Settings.defaults(1), launcher), 0, events::add,
                new ControlAdmission(), slotId -> List.of(), new Fakes.Lines().log);
        Worker trainer = pool.launchTrainer(launcher, 0);
        Worker spare = pool.launch(launcher, 0, WorkerRole.SPARE, 0);
        Worker retiring = pool.launch(launcher, 1, WorkerRole.ACTIVE, 0);
        pool.retire(retiring, "replaced");  // what a replaced worker is
        assertEquals("trainer (pid " + trainer.pid() + ")", trainer.toString());
        assertEquals("spare (pid " + spare.pid() + ")", spare.toString());
        List<String> roles = StatusReport.rows(pool, 0).stream().map(StatusReport.Row::role).toList();
        assertEquals(List.of("trainer", "spare", "retiring"), roles);
    }
}
