package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;

/**
 * --worker-start trained, as the loop runs it: one serving worker at a time records the cache, its
 * exit has the cache checked off the loop, and a stopping supervisor waits for that check.
 */
class TrainedCacheTest extends SupervisorTestBase {
    /** The archive as the launch edge would keep it, with the JVM's verdict given by the test. */
    static final class Archive implements WorkerArchive {
        boolean wanted = true;
        boolean recording;
        State state = State.READY;
        String refusal;
        final List<Long> endedWithRequests = new ArrayList<>();

        @Override public Path file() { return Path.of("/cache/worker-x.aot"); }
        @Override public State state() { return state; }
        @Override public void trainingStarted() { state = State.TRAINING; }
        @Override public String trainingEnded(int exitValue, String cause) { return null; }
        @Override public void failed() { }
        @Override public boolean wantsRecording() { return wanted && !recording; }
        @Override public void recordingStarted() { recording = true; }
        @Override public Path recordedFile() { return Path.of("/cache/worker-x.trained.aot"); }

        @Override
        public String recordingEnded(int exitValue, String cause, long requests) {
            endedWithRequests.add(requests);
            recording = false;
            wanted = refusal != null;
            return refusal;
        }
    }

    final Archive archive = new Archive();
    final Fakes.Launcher recorder = new Fakes.Launcher();
    final List<Runnable> offLoop = new ArrayList<>();

    private void startTrained(int workers) throws InterruptedException {
        recorder.nextPid = 5000;
        Settings settings = new Settings.Builder(workers).bootsAtOnce(SupervisorTestBase.ALL_AT_ONCE).gracefulTimeout(Duration.ofSeconds(10)).build();
        supervisor = new Supervisor(new Generation(settings, launcher, archive, launcher, recorder),
                slotId -> List.of(), clock, lines.log, new LinkedBlockingQueue<>(), new ControlAdmission(), offLoop::add);
        step();
    }

    private void runOffLoop() {
        List<Runnable> due = List.copyOf(offLoop);
        offLoop.clear();
        due.forEach(Runnable::run);
    }

    @Test
    void theBootArchivesTrainingRunWaitsUntilEveryWorkerServes() throws Exception {
        archive.state = WorkerArchive.State.MISSING;
        archive.wanted = false;
        startTrained(2);
        assertEquals(List.of(1, 2), launcher.launched.stream().map(p -> p.workerId).toList(), "the workers, no training run yet");
        bringUp(launcher.launched.get(0));
        assertEquals(2, launcher.launched.size(), "one worker serves, the other still boots");
        bringUp(launcher.launched.get(1));
        assertEquals(List.of(1, 2, 0), launcher.launched.stream().map(p -> p.workerId).toList(), "then the training run");
        assertTrue(logged("trainer (pid " + launcher.last().pid + "): started to train the class archive"), lines.text());

        launcher.last().exit(0);  // the JVM writes the archive as it exits
        step();
        assertEquals(0, launcher.archivesReady, "not before the JVM has checked it");
        runOffLoop();
        step();
        assertTrue(logged("class archive ready: /cache/worker-x.aot"), lines.text());
        assertEquals(1, launcher.archivesReady, "the launcher hears of it (scripts/prefork's first worker is written again)");
        assertEquals(0, recorder.archivesReady);
    }

    @Test
    void oneWorkerRecordsAndItsExitHasTheCacheCheckedOffTheLoop() throws Exception {
        startTrained(2);
        assertEquals(1, recorder.launched.size(), "one worker records, not every one");
        assertEquals(1, launcher.launched.size());
        Fakes.Process rec = recorder.last();
        assertTrue(logged("worker 1 (pid 5000): records an AOT cache"), lines.text());
        Fakes.Connection c = bringUp(rec);
        bringUp(launcher.last());
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.HEARTBEAT, "1500")));
        step();

        rec.exit(0);
        step();
        assertEquals(List.of(), archive.endedWithRequests, "the check starts a JVM: not on the loop");
        assertEquals(2, launcher.launched.size(), "the slot is filled at once, from the archive there is");
        assertEquals(1, recorder.launched.size(), "a recording still being checked is not started twice");
        runOffLoop();
        step();
        assertEquals(List.of(1500L), archive.endedWithRequests);
        assertTrue(logged("recorded AOT cache ready: /cache/worker-x.trained.aot"), lines.text());
        assertEquals(1, launcher.archivesReady, "workers start from it now: the launcher hears of it");

        launcher.launched.get(1).exit(1);  // a crash: its replacement starts from the recorded cache, nothing records
        step();
        clock.advanceMillis(1000);
        step();
        assertEquals(3, launcher.launched.size(), lines.text());
        assertEquals(1, recorder.launched.size(), lines.text());
    }

    @Test
    void aRecordingTheJvmRefusesIsLoggedAndTheNextWorkerRecords() throws Exception {
        archive.refusal = "the recording worker served 3 requests, fewer than 1000";
        startTrained(1);
        bringUp(recorder.last());
        recorder.last().exit(0);
        step();
        runOffLoop();
        step();
        assertTrue(logged("recorded AOT cache not kept: the recording worker served 3 requests"), lines.text());
        assertEquals(0, launcher.archivesReady, "nothing new to start with");
        assertEquals(1, launcher.launched.size(), "the replacement started at once, from the archive there is");
        bringUp(launcher.last());
        launcher.last().exit(1);
        step();
        clock.advanceMillis(1000);
        step();
        assertEquals(2, recorder.launched.size(), "the next worker records instead:\n" + lines.text());
    }

    @Test
    void aStoppingSupervisorWaitsForTheCheckOfWhatTheLastRecorderWrote() throws Exception {
        startTrained(1);
        bringUp(recorder.last());
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        recorder.last().exit(0);
        assertTrue(step(), "still running: the recorded cache is being checked");
        assertTrue(logged("all workers are gone; the JVM checks the class archive the last one wrote"), lines.text());
        assertFalse(logged("exiting"), lines.text());
        runOffLoop();
        assertFalse(step(), "done once the check came back");
        assertTrue(logged("recorded AOT cache ready"), lines.text());
    }
}
