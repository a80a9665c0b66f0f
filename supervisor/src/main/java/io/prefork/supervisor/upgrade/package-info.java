/**
 * Upgrading the supervisor in place ({@code ctl upgrade}, USR2). The old side: {@code NewSupervisor}
 * starts the new supervisor from the script on disk and {@code UpgradeSocket} is where it talks to
 * us; the loop drives both through the core's {@code Handover}. The new side: {@code OldSupervisor}
 * takes the listening sockets from the old one, and {@code TakeOverWhenReady} tells it READY once the
 * new workers are.
 *
 * <p>May import: the core, {@code net}, {@code launch}, {@code io.prefork.unix}, {@code io.prefork.posix},
 * {@code io.prefork.protocol}.
 */
package io.prefork.supervisor.upgrade;
