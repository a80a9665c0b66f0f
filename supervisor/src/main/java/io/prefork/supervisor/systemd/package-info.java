/**
 * systemd's side of things: sd_notify ({@code SdNotify}) and the {@code ServiceManager} that tells
 * it READY, RELOADING, STOPPING, STATUS and WATCHDOG ({@code Systemd}).
 *
 * <p>May import: the core, {@code io.prefork.unix}, {@code io.prefork.posix}.
 */
package io.prefork.supervisor.systemd;
