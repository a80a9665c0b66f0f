/**
 * The supervisor's core: what its one loop thread owns, and the interfaces the edges implement.
 *
 * <p>{@link io.prefork.supervisor.Supervisor} is the loop: it takes {@link io.prefork.supervisor.Event}s
 * from one queue and, by its {@link io.prefork.supervisor.Phase}, runs health checks, due starts, the
 * roll, recycles and spares. Beside it: {@code WorkerPool} (slots, workers and their lifecycle; the only
 * writer of a {@code Slot} and of a worker's {@code WorkerRole}), {@code WorkerChannel} (the control
 * protocol), {@code FailurePolicy} (what an unasked exit leads to), {@code Reloads} and
 * {@code RollingRestart} (reloads), {@code Handover} (an upgrade, the old supervisor's side),
 * {@code ArchiveTraining}, {@code HealthChecks}, {@code Shutdown}, {@code Metrics} and
 * {@code ServiceNotices}. {@code Settings} and {@code Flag} hold the configuration and every default,
 * written once.
 *
 * <p>May import: {@code io.prefork.protocol} and {@code io.prefork.unix} (constants and the native
 * error). Never an edge: {@code net}, {@code launch}, {@code admin}, {@code systemd}, {@code upgrade},
 * {@code boot} implement this package's interfaces ({@code ListenerSource}, {@code WorkerLauncher},
 * {@code WorkerArchive}, {@code ServiceManager}, {@code Handover.Starter}, {@code Reloader}) and post
 * events; {@code LayoutTest} holds this.
 */
package io.prefork.supervisor;
