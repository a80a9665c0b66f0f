package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An app that cannot boot stops the supervisor with exit code 3 and one reason, after backoff. */
@Timeout(120)
class BootFailureIT {
    @TempDir
    Path dir;

    @Test
    void anAppWhoseMainThrows() throws Exception {
        assertGivesUp("io.prefork.it.apps.ThrowingApp", RunningSupervisor.TEST_APPS,
                "the app's main threw java.lang.IllegalStateException: configuration is broken");
    }

    private void assertGivesUp(String app, String classpath, String reason) throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--app", app, "--app-classpath", classpath)) {
            long cpuTicks = 0;
            long startedAt = System.nanoTime();
            while (s.process.isAlive() && System.nanoTime() - startedAt < Duration.ofSeconds(60).toNanos()) {
                try {
                    cpuTicks = ProcFs.cpuTicks(s.pid());
                } catch (java.io.IOException gone) {
                    break;
                }
                RunningSupervisor.pause(20);
            }
            assertEquals(3, s.awaitExit(Duration.ofSeconds(60)));
            long wallMs = (System.nanoTime() - startedAt) / 1_000_000;
            String log = s.logText();
            List<String> lines = log.lines().toList();
            assertEquals("prefork: workers failed to boot 5 times in a row; last: " + reason, lines.get(lines.size() - 1));
            assertEquals(5, s.count("failed to boot: " + java.util.regex.Pattern.quote(reason)), log);
            for (long delay : new long[] {0, 100, 200, 400}) {
                assertTrue(log.contains("worker 1: restarting in " + delay + " ms"), log);
            }
            // Five JVM start-ups cost the supervisor only a JVM's own start-up in CPU: no busy loop.
            long cpuMs = cpuTicks * 10;
            assertTrue(cpuMs < wallMs / 2, "supervisor CPU " + cpuMs + " ms over " + wallMs + " ms");
        }
    }
}
