/**
 * Starting worker processes: the java command line ({@code WorkerCommand}), the launcher and the
 * environment a worker gets ({@code JvmWorkerLauncher}), a worker process ({@code WorkerJvm}), the first
 * worker scripts/prefork starts beside the supervisor ({@code FirstWorker}), the class archive and its JVM checks
 * ({@code ClassArchive}), the user workers run as ({@code RunAs}), and where the installation keeps
 * its jars and scripts ({@code InstallLayout}).
 *
 * <p>May import: the core, {@code net}, {@code io.prefork.unix}, {@code io.prefork.posix}.
 */
package io.prefork.supervisor.launch;
