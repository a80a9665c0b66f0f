package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The house plan, read from the sources: the core imports no edge, each edge imports only what its
 * package-info says, every package says what lives there, and no file outgrows one concept.
 */
class LayoutTest {
    private static final Path SOURCES = Path.of(System.getProperty("user.dir"), "src/main/java/io/prefork/supervisor");
    private static final Pattern SUPERVISOR_PACKAGE = Pattern.compile("\\bio\\.prefork\\.supervisor\\.([a-z]+)\\.[A-Z]");

    /** Which of the supervisor's packages each one may use ("" is the core). */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "", Set.of(),
            "net", Set.of(""),
            "launch", Set.of("", "net"),
            "admin", Set.of("", "net"),
            "systemd", Set.of(""),
            "upgrade", Set.of("", "net", "launch"),
            "boot", Set.of("", "net", "launch", "admin", "systemd", "upgrade"));

    @Test
    void theCoreImportsNoEdgeAndEachEdgeOnlyWhatItsPlanAllows() throws IOException {
        Map<String, Set<String>> used = new TreeMap<>();
        for (Path file : javaFiles()) {
            String pkg = packageOf(file);
            Matcher m = SUPERVISOR_PACKAGE.matcher(Files.readString(file));
            while (m.find()) {
                if (!m.group(1).equals(pkg)) {
                    used.computeIfAbsent(pkg + " <- " + file.getFileName(), k -> new TreeSet<>()).add(m.group(1));
                }
            }
        }
        List<String> breaches = new ArrayList<>();
        used.forEach((where, packages) -> {
            String pkg = where.substring(0, where.indexOf(" <- "));
            for (String p : packages) {
                if (!p.isEmpty() && !ALLOWED.get(pkg).contains(p)) {
                    breaches.add((pkg.isEmpty() ? "core" : pkg) + " (" + where.substring(where.indexOf(" <- ") + 4)
                            + ") uses " + p);
                }
            }
        });
        assertEquals(List.of(), breaches);
        assertEquals(ALLOWED.keySet(), packages(), "every package has a rule, every rule a package");
    }

    @Test
    void everyPackageSaysWhatLivesThereAndWhatItMayImport() throws IOException {
        for (String pkg : packages()) {
            Path info = SOURCES.resolve(pkg).resolve("package-info.java");
            assertTrue(Files.exists(info), "package-info.java in " + (pkg.isEmpty() ? "the core" : pkg));
            assertTrue(Files.readString(info).contains("May import"), info + " says what it may import");
        }
    }

    @Test
    void noMainSourceFileIsOver400LinesAndTheLoopStaysSmall() throws IOException {
        List<String> big = new ArrayList<>();
        for (Path file : javaFiles()) {
            long lines = Files.readAllLines(file).size();
            if (lines > 400) {
                big.add(SOURCES.relativize(file) + ": " + lines);
            }
        }
        assertEquals(List.of(), big);
        assertTrue(Files.readAllLines(SOURCES.resolve("Supervisor.java")).size() < 350, "Supervisor.java under 350 lines");
    }

    private static List<Path> javaFiles() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }

    private static Set<String> packages() throws IOException {
        Set<String> packages = new TreeSet<>();
        for (Path file : javaFiles()) {
            packages.add(packageOf(file));
        }
        return packages;
    }

    /** "" for the core, else the edge's name ("net", "boot", ...). */
    private static String packageOf(Path file) {
        Path dir = SOURCES.relativize(file.getParent());
        return dir.toString();
    }
}
