/**
 * The operator's ways in: the admin socket and {@code prefork ctl} ({@code AdminServer}, {@code Ctl}),
 * the health and metrics endpoint ({@code AdminHttp} over TCP or {@code UnixHttpServer}), and the
 * guard against slow clients ({@code PendingConnections}). Commands become
 * {@code Event.AdminRequest}s; the loop answers.
 *
 * <p>May import: the core, {@code net}, {@code io.prefork.unix}, {@code io.prefork.posix}.
 */
package io.prefork.supervisor.admin;
