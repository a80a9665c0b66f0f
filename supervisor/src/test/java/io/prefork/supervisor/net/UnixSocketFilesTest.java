package io.prefork.supervisor.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;

/** The supervisor's private socket directory: who may enter it, and it goes whole, with what its workers left in it. */
class UnixSocketFilesTest {
    @Test
    void removingThePrivateSocketTakesWhatAKilledWorkerLeftInItsDirectory() throws Exception {
        UnixSocketFiles.PrivateSocket socket = UnixSocketFiles.bindInPrivateDirectory("prefork-test-", "control.sock", 1, -1);
        try {
            assertEquals("rwx------", mode(socket.dir()));
            assertEquals("rw-------", mode(socket.path()));
            Files.createFile(socket.dir().resolve("withdrawn-12345"));  // a placeholder's path, its worker killed
        } finally {
            socket.channel().close();
            socket.removeFiles();
        }
        assertFalse(Files.exists(socket.dir()), socket.dir() + " is gone");
        assertTrue(socket.dir().getFileName().toString().startsWith("prefork-test-"));
    }

    /** --user: the workers' group may enter the directory and connect; no one else may, and no one may list it. */
    @Test
    void aSocketForWorkersOfAnotherUserIsTheirGroups() throws Exception {
        // A group this process may give its files: its own effective gid.
        int group = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Gid:"))
                .map(l -> Integer.parseInt(l.split("\\s+")[2])).findFirst().orElseThrow();
        UnixSocketFiles.PrivateSocket socket = UnixSocketFiles.bindInPrivateDirectory("prefork-test-", "control.sock", 1, group);
        try {
            assertEquals("rwx--x---", mode(socket.dir()));
            assertEquals("rw-rw----", mode(socket.path()));
            assertEquals(group, Files.getAttribute(socket.dir(), "unix:gid"));
            assertEquals(group, Files.getAttribute(socket.path(), "unix:gid", LinkOption.NOFOLLOW_LINKS));
        } finally {
            socket.channel().close();
            socket.removeFiles();
        }
        assertFalse(Files.exists(socket.dir()), socket.dir() + " is gone");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
