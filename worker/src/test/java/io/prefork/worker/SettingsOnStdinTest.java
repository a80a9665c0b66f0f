package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a worker started beside the supervisor reads on its stdin once the supervisor takes it. */
class SettingsOnStdinTest {
    private static ByteArrayInputStream in(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theLinesUpToTheEmptyOneGoOverTheEnvironmentAndNothingAfterItIsRead() throws IOException {
        ByteArrayInputStream in = in("PREFORK_CONTROL_SOCKET=/tmp/x/control.sock\nPREFORK_TOKEN=ab=cd\n\nmore");
        Map<String, String> s = SettingsOnStdin.read(in, Map.of("PREFORK_WORKER_ID", "1", "PREFORK_TOKEN", "old"));
        assertEquals(Map.of("PREFORK_WORKER_ID", "1", "PREFORK_CONTROL_SOCKET", "/tmp/x/control.sock", "PREFORK_TOKEN", "ab=cd"), s);
        assertEquals(4, in.available(), "the pipe is read up to the empty line, no further");
    }

    @Test
    void theEndOfTheInputBeforeTheEmptyLineMeansTheSupervisorDidNotTakeIt() throws IOException {
        assertNull(SettingsOnStdin.read(in(""), Map.of()));
        assertNull(SettingsOnStdin.read(in("PREFORK_TOKEN=ab\n"), Map.of()), "a message cut short is not taken");
    }

    @Test
    void aLineThatIsNotNameEqualsValueOrTooMuchInputIsRefused() {
        assertEquals("not a NAME=value line on stdin: =x",
                assertThrows(IOException.class, () -> SettingsOnStdin.read(in("=x\n\n"), Map.of())).getMessage());
        String endless = "A=" + "x".repeat(70_000) + "\n\n";
        assertThrows(IOException.class, () -> SettingsOnStdin.read(in(endless), Map.of()));
    }
}
