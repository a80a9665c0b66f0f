package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void noneForAnIsolatedFailureThenDoublesFrom100MsAndCapsAt30s() {
        Backoff b = Backoff.standard();
        long[] expected = {0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
        for (long ms : expected) {
            assertEquals(Duration.ofMillis(ms), b.afterExit(Duration.ZERO));
        }
        for (int i = 0; i < 100; i++) {
            assertEquals(Duration.ofSeconds(30), b.afterExit(Duration.ofSeconds(4)), "no overflow after many failures");
        }
    }

    @Test
    void fiveSecondsOfServiceResets() {
        Backoff b = Backoff.standard();
        b.afterExit(Duration.ZERO);
        b.afterExit(Duration.ZERO);
        assertEquals(Duration.ofMillis(200), b.afterExit(Duration.ofMillis(4_999)));
        assertEquals(Duration.ZERO, b.afterExit(Duration.ofSeconds(5)));
        assertEquals(Duration.ofMillis(100), b.afterExit(Duration.ZERO));
    }
}
