/**
 * The supervisor's POSIX calls through jnr-posix, none of them on its start path unless an option
 * needs it there: kill, users and groups, CPU priorities, the log file. Internal to prefork.
 */
package io.prefork.posix;
