package io.prefork.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The nice limit read from /proc at start, before jnr-posix loads, says what getrlimit says. */
class CpuPriorityTest {
    private static final String HEADER = "Limit                     Soft Limit           Hard Limit           Units     \n";

    @Test
    void theSoftNiceLimitIsReadFromProcLimits() {
        assertEquals(0, CpuPriority.niceLimit(HEADER + "Max nice priority         0                    0                    \n"));
        assertEquals(30, CpuPriority.niceLimit(HEADER + "Max nice priority         30                   40                   \n"));
        assertEquals(Long.MAX_VALUE, CpuPriority.niceLimit(HEADER
                + "Max nice priority         unlimited            unlimited            \n"));
        assertEquals(-1, CpuPriority.niceLimit(HEADER), "no such line");
    }

    @Test
    void itAgreesWithGetrlimit() throws Exception {
        long fromProc = CpuPriority.niceLimit(Files.readString(Path.of("/proc/self/limits")));
        long fromCall = JnrPosix.posix().getrlimit(13).rlimCur();  // RLIMIT_NICE
        assertEquals(fromCall == -1 ? Long.MAX_VALUE : fromCall, fromProc);  // RLIM_INFINITY reads as -1
    }
}
