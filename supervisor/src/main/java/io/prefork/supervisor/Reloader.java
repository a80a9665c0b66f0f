package io.prefork.supervisor;

/**
 * Re-reads the configuration on a reload: the command line as given, plus the config file. It may
 * start a JVM (to check a class archive), so the loop calls it on another thread.
 */
public interface Reloader {
    Generation reload() throws UsageException;
}
