package io.prefork.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * External programs some tests drive (supervisord, systemd-analyze, unshare). `.ci/run` installs
 * them and sets PREFORK_CI=1, and then a missing one fails the test; elsewhere it is skipped.
 */
final class Tools {
    private Tools() {
    }

    static String require(String program, String what) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        String message = program + " (" + what + ") is not installed";
        if ("1".equals(System.getenv("PREFORK_CI"))) {
            fail(message + "; .ci/run should have installed it");
        }
        Assumptions.abort(message);
        return null;
    }
}
