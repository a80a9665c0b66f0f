package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/benchmarks/ and scripts/StartupAB.java run only when someone benchmarks; this keeps them
 * compiling (on 17) in CI, and each benchmark source under the ~400-line limit.
 */
class BenchScriptTest {
    private static final Path SCRIPTS = Path.of(System.getProperty("user.dir")).resolve("../scripts").normalize();

    @Test
    void theBenchmarkSourcesCompile(@TempDir Path out) throws IOException {
        List<String> args = new ArrayList<>(List.of("--release", "17", "-d", out.toString(),
                SCRIPTS.resolve("StartupAB.java").toString()));
        try (Stream<Path> files = Files.list(SCRIPTS.resolve("benchmarks"))) {
            files.map(Path::toString).filter(f -> f.endsWith(".java")).sorted().forEach(args::add);
        }
        // StartupAB is a single-file program of its own: compiled apart, so its class names cannot clash.
        compile(args.subList(0, 5));
        List<String> bench = new ArrayList<>(args.subList(0, 4));
        bench.addAll(args.subList(5, args.size()));
        compile(bench);
    }

    @Test
    void noBenchmarkSourceIsOver400Lines() throws IOException {
        List<String> big = new ArrayList<>();
        try (Stream<Path> files = Files.list(SCRIPTS.resolve("benchmarks"))) {
            for (Path f : files.toList()) {
                long lines = Files.readAllLines(f).size();
                if (lines > 400) {
                    big.add(f.getFileName() + ": " + lines);
                }
            }
        }
        assertEquals(List.of(), big);
    }

    private static void compile(List<String> args) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, args.toArray(String[]::new));
        assertEquals(0, rc, errors.toString(StandardCharsets.UTF_8));
    }
}
