/**
 * Starting the supervisor process: {@code Main}, the command line ({@code Cli}, {@code Config},
 * {@code AppJar}, {@code AppClasspath}), {@code Signals} (handlers that only enqueue), {@code PidFile},
 * {@code Bootstrap} (one supervisor process's resources, opened in order and closed in reverse), and
 * {@code SupervisorArchiveTraining} (the supervisor's own class archive, trained by scripts/prefork).
 *
 * <p>May import every package: this is where they are put together.
 */
package io.prefork.supervisor.boot;
