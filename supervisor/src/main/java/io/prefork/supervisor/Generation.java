package io.prefork.supervisor;

/**
 * A configuration the workers run with: what a reload (HUP) replaces, and what an aborted roll
 * restores. With --worker-start fast it carries the class archive and the launcher of its training
 * run; with trained, also the launcher of a worker that records the cache as it serves.
 */
public record Generation(Settings settings, WorkerLauncher launcher, WorkerArchive archive, WorkerLauncher trainer,
                         WorkerLauncher recorder) {
    public Generation(Settings settings, WorkerLauncher launcher) {
        this(settings, launcher, null, null, null);
    }
}
