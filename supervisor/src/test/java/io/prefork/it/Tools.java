package io.prefork.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        return missing(program + " (" + what + ") is not installed");
    }

    /**
     * A JDK of at least {@code feature} under /usr/lib/jvm (or $PREFORK_TEST_JDK), for what only a
     * newer JVM has: its java binary.
     */
    static String requireJdk(int feature, String what) {
        List<Path> homes = new ArrayList<>();
        String given = System.getenv("PREFORK_TEST_JDK");
        if (given != null) {
            homes.add(Path.of(given));
        }
        try (var dirs = Files.list(Path.of("/usr/lib/jvm"))) {
            dirs.sorted().forEach(homes::add);
        } catch (IOException e) {
            // no JDKs there
        }
        for (Path home : homes) {
            Path java = home.resolve("bin/java");
            if (Files.isExecutable(java) && featureVersion(home) >= feature) {
                return java.toString();
            }
        }
        return missing("a JDK " + feature + " or newer (" + what + ") is not installed under /usr/lib/jvm");
    }

    private static int featureVersion(Path home) {
        try {
            Matcher m = Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(home.resolve("release")));
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Skips the test, or fails it under PREFORK_CI=1: what it needs is not here. */
    static String missing(String message) {
        if ("1".equals(System.getenv("PREFORK_CI"))) {
            fail(message + "; .ci/run should have installed it");
        }
        Assumptions.abort(message);
        return null;
    }
}
