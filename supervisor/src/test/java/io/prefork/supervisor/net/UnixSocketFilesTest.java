package io.prefork.supervisor.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The supervisor's private socket directory goes whole, with what its workers left in it. */
class UnixSocketFilesTest {
    @Test
    void removingThePrivateSocketTakesWhatAKilledWorkerLeftInItsDirectory() throws Exception {
        UnixSocketFiles.PrivateSocket socket = UnixSocketFiles.bindInPrivateDirectory("prefork-test-", "control.sock", 1);
        try {
            Files.createFile(socket.dir().resolve("withdrawn-12345"));  // a placeholder's path, its worker killed
        } finally {
            socket.channel().close();
            socket.removeFiles();
        }
        assertFalse(Files.exists(socket.dir()), socket.dir() + " is gone");
        assertTrue(socket.dir().getFileName().toString().startsWith("prefork-test-"));
    }
}
