/**
 * The supervisor's POSIX calls through jnr-posix: kill, sendmsg and recvmsg with SCM_RIGHTS, users
 * and groups, the log file. Internal to prefork.
 */
package io.prefork.posix;
