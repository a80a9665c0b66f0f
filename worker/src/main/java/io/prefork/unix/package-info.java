/**
 * Internal to prefork: not an API for apps, and it may change in any release. The native layer the
 * worker and the supervisor share: jnr-unixsocket for every Unix-domain socket ({@code UnixSockets}),
 * and a minimal jnr-ffi binding ({@code LibC}) for what jnr-posix and the JDK do not do: TCP listener
 * options, fd passing (both ends), dup/dup2, a user's group list. A failed call becomes a
 * {@code NativeException} naming the call and its strerror text.
 */
package io.prefork.unix;
