package io.prefork.supervisor;

import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * --worker-start fast: if the archive is missing, one extra worker (the {@link WorkerRole#TRAINER})
 * boots as a spare would with the training option, serves --training-requests on no real listener,
 * is stopped once parked, and the JVM writes the archive as it exits. --worker-start trained: a
 * serving worker records the cache (the pool starts it, see {@link WorkerPool}); its JVM writes the
 * cache as it exits. The check that the JVM accepts
 * what was written starts a JVM, so it runs off the loop and comes back as an {@link Event.ArchiveChecked}.
 */
public final class ArchiveTraining {
    private final WorkerPool pool;
    private final Log log;
    private final Executor offLoop;
    private final Consumer<Event> events;
    /** The training run, while it runs, and the archive it writes. */
    private Worker trainer;
    private WorkerArchive training;
    /** Checks running off the loop: a stopping supervisor waits for them, so that what was written is kept. */
    private int checking;

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
            log.warn(trainer + ": the class archive's training run did not serve its --training-requests and wait"
                    + " for its listeners within --boot-timeout; workers start without an archive");
            trainer.kill("training run did not park");
            training.failed();
        }
        Generation generation = pool.generation();
        WorkerArchive archive = generation.archive();
        // It waits until every slot serves: a JVM booting beside the first workers would slow them.
        if (archive == null || trainer != null || archive.state() != WorkerArchive.State.MISSING
                || pool.readyCount() < pool.size() || pool.jvmsBooting() > 0) {
            return;
        }
        try {
            trainer = pool.launchTrainer(generation.trainer(), now);
            training = archive;
            archive.trainingStarted();
            log.info(trainer + ": started to train the class archive " + archive.file() + trainer.bootPriority());
        } catch (IOException e) {
            log.warn("cannot start the class archive's training run: " + e.getMessage());
            archive.failed();
        }
    }

    /**
     * A worker exited. If it was the training run or a recording worker, the JVM's check of what it
     * wrote runs off the loop. Returns true for the training run: nothing else follows from its exit.
     */
    boolean exited(WorkerPool.Exit exit) {
        if (exit.worker().recording() != null) {
            recorded(exit);
        }
        if (exit.role() != WorkerRole.TRAINER) {
            return false;
        }
        WorkerArchive archive = training;
        trainer = null;
        training = null;
        checking++;
        offLoop.execute(() -> events.accept(new Event.ArchiveChecked(archive, false,
                archive.trainingEnded(exit.exitValue(), exit.cause()))));
        return true;
    }

    private void recorded(WorkerPool.Exit exit) {
        WorkerArchive archive = exit.worker().recording();
        long requests = exit.worker().requests();
        log.info(exit.worker() + ": recorded an AOT cache while it served " + requests + " requests; checking it");
        checking++;
        offLoop.execute(() -> events.accept(new Event.ArchiveChecked(archive, true,
                archive.recordingEnded(exit.exitValue(), exit.cause(), requests))));
    }

    boolean checking() {
        return checking > 0;
    }

    void checked(Event.ArchiveChecked checked) {
        checking--;
        WorkerArchive archive = checked.archive();
        if (checked.refusal() == null && pool.generation().archive() == archive) {
            pool.generation().launcher().archiveReady();
        }
        if (checked.recorded() && checked.refusal() == null) {
            log.info("recorded AOT cache ready: " + archive.recordedFile() + "; workers started from now on use it");
        } else if (checked.recorded()) {
            log.warn("recorded AOT cache not kept: " + checked.refusal());
        } else if (checked.refusal() == null) {
            log.info("class archive ready: " + archive.file() + "; workers started from now on use it");
        } else {
            log.warn("class archive training failed: " + checked.refusal() + "; workers start without an archive");
        }
    }
}
