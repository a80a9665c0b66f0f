package io.prefork.supervisor.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Where --cache-dir points: its default, and what it will be before the command line is parsed. */
final class CacheDir {
    /** Root with --user: the workers run as another user and must read it, which root's home (0700) forbids. */
    static final String FOR_WORKERS_OF_ANOTHER_USER = "/var/cache/prefork";

    private CacheDir() {
    }

    /**
     * $XDG_CACHE_HOME/prefork, or $HOME/.cache/prefork (the JVM's user.home, from the password
     * database, only without $HOME), as scripts/prefork has it for the supervisor's own archive; for
     * root with --user or --group, /var/cache/prefork.
     */
    static String byDefault(boolean runAs) {
        if (runAs && isRoot()) {
            return FOR_WORKERS_OF_ANOTHER_USER;
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        String home = System.getenv("HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".cache"))
                .resolve("prefork").toString();
    }

    /** This process's effective uid is 0 (the owner of /proc/self): no native call before the libraries load. */
    private static boolean isRoot() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The --cache-dir these arguments will have, read before they are parsed (the supervisor's own
     * jffi is loaded from there, before anything else loads it); null when a --config file may set
     * it, so that nothing is written where the operator did not say, or when the parse will refuse it.
     */
    static Path beforeParsing(String[] args) {
        String dir = null;
        boolean runAs = false;
        for (int i = 0; i < args.length && !args[i].equals("--"); i++) {
            if (args[i].equals("--config") || args[i].startsWith("--config=")) {
                return null;
            } else if (args[i].equals("--cache-dir") && i + 1 < args.length) {
                dir = args[++i];
            } else if (args[i].startsWith("--cache-dir=")) {
                dir = args[i].substring("--cache-dir=".length());
            } else if (args[i].equals("--user") || args[i].startsWith("--user=")
                    || args[i].equals("--group") || args[i].startsWith("--group=")) {
                runAs = true;
            }
        }
        try {
            dir = dir == null ? byDefault(runAs) : dir;
            return dir.isEmpty() ? null : Path.of(dir);
        } catch (InvalidPathException e) {
            return null;  // the parse reports it
        }
    }
}
