package io.prefork.supervisor.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.Log;
import io.prefork.supervisor.net.UnixSocketFiles;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The admin socket's file in an upgrade: the old supervisor leaves it for the new one to replace. */
@Timeout(30)
class AdminServerTest {
    private static final Log QUIET = new Log(new PrintStream(OutputStream.nullOutputStream()));

    @TempDir
    Path dir;

    @Test
    void aHandOverLeavesTheFileAndTheNewServerReplacesIt() throws Exception {
        Path path = dir.resolve("prefork.ctl");
        AdminServer old = AdminServer.start(path, null, false, e -> { }, QUIET);
        Object oldFile = UnixSocketFiles.fileKey(path);
        old.handOver();
        assertEquals(oldFile, UnixSocketFiles.fileKey(path), "the old file stays until the new one takes its place");

        AdminServer next = AdminServer.start(path, null, true, e -> { }, QUIET);
        Object newFile = UnixSocketFiles.fileKey(path);
        assertFalse(oldFile.equals(newFile), "the new supervisor's socket is at the path");
        old.close();  // a later close of the old one still leaves the new one's file alone
        assertEquals(newFile, UnixSocketFiles.fileKey(path));

        next.close();
        assertFalse(Files.exists(path), "a supervisor that stops removes its own socket file");
        assertTrue(Files.isDirectory(dir));
    }
}
