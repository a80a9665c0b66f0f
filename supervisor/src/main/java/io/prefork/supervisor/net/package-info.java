/**
 * Sockets: the listeners the supervisor binds or adopts ({@code Listeners}, {@code Listener},
 * {@code BindAddress}, {@code SocketActivation} for systemd's LISTEN_FDS), Unix socket files
 * ({@code UnixSocketFiles}), and the sockets only the supervisor's children may use
 * ({@code ChildSocket}, and on it the workers' {@code ControlServer}).
 *
 * <p>May import: the core, {@code io.prefork.unix}, {@code io.prefork.posix}, {@code io.prefork.protocol}.
 */
package io.prefork.supervisor.net;
