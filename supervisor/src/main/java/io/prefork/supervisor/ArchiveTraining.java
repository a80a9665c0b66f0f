package io.prefork.supervisor;

import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * --worker-start fast: if the archive is missing, one extra worker (the {@link WorkerRole#TRAINER})
 * boots as a spare would with the training option, is stopped once parked, and the JVM writes the
 * archive as it exits. The check that the JVM accepts it starts a JVM, so it runs off the loop and
 * comes back as an {@link Event.ArchiveChecked}.
 */
public final class ArchiveTraining {
    private final WorkerPool pool;
    private final Log log;
    private final Executor offLoop;
    private final Consumer<Event> events;
    /** The training run, while it runs, and the archive it writes. */
    private Worker trainer;
    private WorkerArchive training;

    ArchiveTraining(WorkerPool pool, Log log, Executor offLoop, Consumer<Event> events) {
        this.pool = pool;
        this.log = log;
        this.offLoop = offLoop;
        this.events = events;
    }

    /** Starts the training run if the archive is missing; gives it up if it did not park in time. */
    void tick(long now) {
        if (trainer != null && !trainer.parked() && !trainer.killSent()
                && now - trainer.startedAt() >= pool.settings().bootTimeout().toNanos()) {
            log.warn(trainer + ": the class archive's training run did not reach Prefork.listeners() within"
                    + " --boot-timeout; workers start without an archive");
            trainer.kill("training run did not park");
            training.failed();
        }
        Generation generation = pool.generation();
        WorkerArchive archive = generation.archive();
        if (archive == null || trainer != null || archive.state() != WorkerArchive.State.MISSING) {
            return;
        }
        try {
            trainer = pool.launchTrainer(generation.trainer(), now);
            training = archive;
            archive.trainingStarted();
            log.info(trainer + ": started to train the class archive " + archive.file());
        } catch (IOException e) {
            log.warn("cannot start the class archive's training run: " + e.getMessage());
            archive.failed();
        }
    }

    /** The training run exited: the JVM's check of what it wrote runs off the loop. */
    void exited(int exitValue, String cause) {
        WorkerArchive archive = training;
        trainer = null;
        training = null;
        offLoop.execute(() -> events.accept(new Event.ArchiveChecked(archive, archive.trainingEnded(exitValue, cause))));
    }

    void checked(WorkerArchive archive, String refusal) {
        if (refusal == null) {
            log.info("class archive ready: " + archive.file() + "; workers started from now on use it");
        } else {
            log.warn("class archive training failed: " + refusal + "; workers start without an archive");
        }
    }
}
