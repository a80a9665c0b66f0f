package io.prefork.supervisor.boot;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Where --cache-dir points: its default, and what it will be before the command line is parsed. */
final class CacheDir {
    private CacheDir() {
    }

    /** $XDG_CACHE_HOME/prefork, or ~/.cache/prefork. */
    static String byDefault() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("prefork").toString();
    }

    /**
     * The --cache-dir these arguments will have, read before they are parsed (the supervisor's own
     * jffi is loaded from there, before anything else loads it); null when a --config file may set
     * it, so that nothing is written where the operator did not say, or when the parse will refuse it.
     */
    static Path beforeParsing(String[] args) {
        String dir = byDefault();
        for (int i = 0; i < args.length && !args[i].equals("--"); i++) {
            if (args[i].equals("--config") || args[i].startsWith("--config=")) {
                return null;
            } else if (args[i].equals("--cache-dir") && i + 1 < args.length) {
                dir = args[++i];
            } else if (args[i].startsWith("--cache-dir=")) {
                dir = args[i].substring("--cache-dir=".length());
            }
        }
        try {
            return dir.isEmpty() ? null : Path.of(dir);
        } catch (InvalidPathException e) {
            return null;  // the parse reports it
        }
    }
}
