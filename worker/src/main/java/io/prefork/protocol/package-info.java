/**
 * Internal to prefork: not an API for apps. The control protocol between the supervisor and its
 * workers (PROTOCOL.md): {@code ControlMessage} is the one codec, {@code ControlSocket} a connection
 * that carries messages and file descriptors.
 */
package io.prefork.protocol;
