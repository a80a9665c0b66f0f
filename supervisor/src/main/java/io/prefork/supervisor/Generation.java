package io.prefork.supervisor;

/**
 * A configuration the workers run with: what a reload (HUP) replaces, and what an aborted roll
 * restores. With --worker-start fast it carries the class archive and the launcher of its training run.
 */
public record Generation(Supervisor.Settings settings, WorkerLauncher launcher, ClassArchive archive,
                         WorkerLauncher trainer) {
    public Generation(Supervisor.Settings settings, WorkerLauncher launcher) {
        this(settings, launcher, null, null);
    }
}
