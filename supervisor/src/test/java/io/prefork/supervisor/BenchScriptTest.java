package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scripts/Bench.java runs only when someone benchmarks; this keeps it compiling in CI. */
class BenchScriptTest {
    @Test
    void theBenchmarkSourceCompiles(@TempDir Path out) {
        Path source = Path.of(System.getProperty("user.dir")).resolve("../scripts/Bench.java").normalize();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, "--release", "17", "-d", out.toString(), source.toString());
        assertEquals(0, rc, errors.toString(StandardCharsets.UTF_8));
    }
}
