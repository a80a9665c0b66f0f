package io.prefork.supervisor;

/** A configuration the workers run with: what a reload (HUP) replaces, and what an aborted roll restores. */
public record Generation(Supervisor.Settings settings, WorkerLauncher launcher) {
}
