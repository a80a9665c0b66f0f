package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** scripts/Bench.java and StartupAB.java run only when someone benchmarks; this keeps them compiling (on 17) in CI. */
class BenchScriptTest {
    @ParameterizedTest
    @ValueSource(strings = {"Bench.java", "StartupAB.java"})
    void theBenchmarkSourceCompiles(String file, @TempDir Path out) {
        Path source = Path.of(System.getProperty("user.dir")).resolve("../scripts/" + file).normalize();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, "--release", "17", "-d", out.toString(), source.toString());
        assertEquals(0, rc, errors.toString(StandardCharsets.UTF_8));
    }
}
