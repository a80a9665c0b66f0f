package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JVM runs behind the archive check and the AOT cache's assembly, with a stand-in for java. */
class ArchiveFilesTest {
    @TempDir
    Path dir;

    private List<String> command(String script) throws Exception {
        Path java = dir.resolve("java");
        Files.writeString(java, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwx------"));
        return List.of(java.toString(), "-Xms8m", "-cp", "app.jar", "io.prefork.worker.Launcher", "com.example.Main");
    }

    @Test
    void aJvmThatHangsWithItsOutputOpenIsEndedAtTheTimeout() throws Exception {
        Path pid = dir.resolve("pid");
        long started = System.nanoTime();
        String failure = ArchiveFiles.runJvm(List.of(), command("echo $$ > " + pid + "; exec sleep 60"), List.of(), List.of(), 1);
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertEquals("the JVM did not finish in 1 s", failure);
        assertTrue(tookMs < 30_000, "ended at its timeout, not at the end of its output: " + tookMs + " ms");
        long pidFile = Long.parseLong(Files.readString(pid).strip());
        assertTrue(ProcessHandle.of(pidFile).map(p -> !p.isAlive()).orElse(true), "the hung process " + pidFile + " is gone");
    }

    @Test
    void aFailureGivesItsFirstLineAndSuccessGivesNull() throws Exception {
        assertEquals("Error: cache refused", ArchiveFiles.runJvm(List.of(), command("echo; echo 'Error: cache refused'; echo more; exit 1"),
                List.of(), List.of(), 10));
        assertEquals("exit 3", ArchiveFiles.runJvm(List.of(), command("exit 3"), List.of(), List.of(), 10));
        assertNull(ArchiveFiles.runJvm(List.of(), command("echo fine"), List.of(), List.of(), 10));
        Path args = dir.resolve("args");
        assertNull(ArchiveFiles.runJvm(List.of(), command("echo \"$@\" > " + args), List.of("-XX:AOTMode=on"), List.of("-version"), 10));
        assertEquals("-XX:AOTMode=on -Xms8m -cp app.jar -version", Files.readString(args).strip(),
                "the options, then the workers' options and classpath, then the tail");
    }

    /** --user: the check and the AOT cache's assembly run after setpriv, as the workers' user, never as root. */
    @Test
    void theJvmRunsAfterItsPrefix() throws Exception {
        Path seen = dir.resolve("seen");
        assertNull(ArchiveFiles.runJvm(List.of("/usr/bin/env", "PREFIX_RAN=yes"), command("echo \"$PREFIX_RAN $1\" > " + seen),
                List.of("-Xshare:on"), List.of(), 10));
        assertEquals("yes -Xshare:on", Files.readString(seen).strip());
    }
}
