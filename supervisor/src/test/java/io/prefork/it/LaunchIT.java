package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker connects to the supervisor beside the app's main (not before it, unless --user): what
 * the app registers before the connection is there is kept, and what needs it waits for it.
 */
@Timeout(120)
class LaunchIT {
    private static final Duration BOOT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void whatTheAppRegistersWhileTheWorkerConnectsIsKept() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--app", "io.prefork.it.apps.EarlyApp",
                "--app-classpath", Jars.EXAMPLES + ":" + RunningSupervisor.TEST_APPS, "--warmup-requests", "3")) {
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            assertEquals(200, Http.get(s.port(), "/").status());
            String log = s.logText();
            assertTrue(log.contains("early app: main started while the worker connects: true"),
                    "the app's main ran only after the connection:\n" + log);
            assertTrue(log.contains("early app: supervised: true, 1 listener(s)"), log);
            assertEquals(3, s.count("early app: warm-up request to /"), "the warm-up registered early ran:\n" + log);
            assertTrue(log.contains("prefork worker 1 (pid " + pid + "): warmed up through Prefork.onWarmUp: 3 requests"), log);
            s.signal(15);
            assertEquals(0, s.awaitExit(BOOT), s.logText());
            assertTrue(s.logText().contains("early app: stop handler ran"), "the stop handler registered early ran:\n" + s.logText());
        }
    }
}
