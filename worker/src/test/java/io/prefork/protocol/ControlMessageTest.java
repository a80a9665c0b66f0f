package io.prefork.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ControlMessageTest {
    @Test
    void anyArgumentRoundTrips() throws Exception {
        ControlMessage m = ControlMessage.of(MessageType.FDS, "unix:/run/my app.sock", "100%", "a\nb\r", "");
        String line = new String(m.encode(), StandardCharsets.UTF_8);
        assertEquals("FDS unix:/run/my%20app.sock 100%25 a%0Ab%0D \n", line);
        assertEquals(m, ControlMessage.parse(line.substring(0, line.length() - 1)));
    }

    @Test
    void noArgumentsMeansNoTrailingSpace() throws Exception {
        assertEquals("READY\n", new String(ControlMessage.of(MessageType.READY).encode(), StandardCharsets.UTF_8));
        assertEquals(ControlMessage.of(MessageType.READY), ControlMessage.parse("READY"));
    }

    @Test
    void malformedLinesAreProtocolErrors() {
        assertEquals("unknown message type: GIMME", assertThrows(ProtocolException.class,
                () -> ControlMessage.parse("GIMME fds")).getMessage());
        assertEquals("bad percent-escape in: a%zz", assertThrows(ProtocolException.class,
                () -> ControlMessage.parse("HELLO a%zz")).getMessage());
        assertEquals("STOP needs at least 1 argument(s)", assertThrows(ProtocolException.class,
                () -> ControlMessage.parse("STOP").arg(0)).getMessage());
    }

    @Test
    void tooLongToSendIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> ControlMessage.of(MessageType.BOOT_ERROR, "x".repeat(ControlMessage.MAX_LINE)).encode());
    }
}
