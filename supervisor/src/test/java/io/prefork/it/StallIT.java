package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * --stall-timeout must not mistake overload for a stall: workers that run flat out while
 * connections pile up in the accept queue get no successor. (ChaosIT shows the stall itself.)
 */
@Timeout(120)
class StallIT {
    @TempDir
    Path dir;

    @Test
    void aCpuBoundOverloadWithALongAcceptQueueStartsNoSurge() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--stall-timeout", "0.5",
                "--app", "io.prefork.it.apps.BusyApp", "--app-classpath", RunningSupervisor.TEST_APPS)) {
            int port = s.port();
            s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            int samples = 0;
            int queued = 0;
            try (Load load = Load.start(port, 0, 16, 100)) {  // 16 clients, 2 served at a time: 14 wait in the queue
                long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
                while (System.nanoTime() < end) {
                    RunningSupervisor.pause(100);
                    samples++;
                    if (acceptQueue(port) > 0) {
                        queued++;
                    }
                }
                System.out.printf("overload: %s; the accept queue held connections in %d of %d samples%n",
                        load.summary(), queued, samples);
            }
            assertTrue(queued >= samples * 8 / 10, "the accept queue was not long enough to tell: " + queued + " of " + samples);
            assertEquals(0, s.count("stall: "), "an overload is not a stall:\n" + s.logText());
            assertEquals(0, s.count("started to replace"), "no successor:\n" + s.logText());
        }
    }

    /** Connections waiting in the accept queue of the listener on {@code port} (rx_queue of a LISTEN socket). */
    private static int acceptQueue(int port) throws Exception {
        String local = String.format(":%04X", port);
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 4 && f[1].endsWith(local) && f[3].equals("0A")) {
                return Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
            }
        }
        return 0;
    }
}
