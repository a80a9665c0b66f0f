package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ExitStatusTest {
    @Test
    void signalsCodesAndTheWorkerContract() {
        assertEquals("killed by SIGKILL (possibly out of memory)", ExitStatus.describe(137));
        assertEquals("killed by SIGKILL", ExitStatus.describe(137, true), "a SIGKILL the supervisor sent");
        assertEquals("exited with code 3 (out of memory: -XX:+ExitOnOutOfMemoryError)", ExitStatus.describe(3));
        assertEquals("killed by SIGTERM", ExitStatus.describe(143));
        assertEquals("killed by SIGSEGV", ExitStatus.describe(139));
        assertEquals("exited with code 0", ExitStatus.describe(0));
        assertEquals("exited with code 1", ExitStatus.describe(1));
        assertEquals("exited with code 11 (app class not found)", ExitStatus.describe(11));
        assertEquals("exited with code 128", ExitStatus.describe(128));
        assertEquals("exited with code 200", ExitStatus.describe(200));
    }
}
