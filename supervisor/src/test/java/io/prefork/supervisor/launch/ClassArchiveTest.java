package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.Log;
import io.prefork.supervisor.WorkerArchive;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive of one worker command as two generations of one supervisor see it (a HUP during its training). */
class ClassArchiveTest {
    @TempDir
    Path cache;

    private static WorkerCommand.App app() {
        return new WorkerCommand.App() {
            @Override public List<String> workerCommand() { return List.of(); }
            @Override public String java() { return Path.of(System.getProperty("java.home"), "bin", "java").toString(); }
            @Override public List<String> jvmOpts() { return List.of(); }
            @Override public String appClasspath() { return "app.jar"; }
            @Override public String appClass() { return "com.example.Main"; }
            @Override public List<String> appArgs() { return List.of(); }
            @Override public RunAs runAs() { return null; }
            @Override public int workers() { return 1; }
            @Override public int spares() { return 0; }
            @Override public boolean jvmShare() { return false; }
        };
    }

    @Test
    void anArchiveTheEarlierGenerationMadeIsReadyForTheNextWhichStartsNoTrainingOfItsOwn() throws Exception {
        ClassArchive.Accepted accepted = new ClassArchive.Accepted();
        Log log = new Log(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        List<String> command = List.of(app().java(), "-cp", "app.jar", "io.prefork.worker.Launcher", "com.example.Main");
        ClassArchive first = ClassArchive.prepare(app(), WorkerCommand.javaVersion(app().java()), command, WorkerStart.FAST, cache, accepted, log);
        assertEquals(WorkerArchive.State.MISSING, first.state());
        first.trainingStarted();
        // A HUP while the first generation's training run boots: the same command, the same file, still missing.
        ClassArchive second = ClassArchive.prepare(app(), WorkerCommand.javaVersion(app().java()), command, WorkerStart.FAST, cache, accepted, log);
        assertEquals(first.file(), second.file());
        assertEquals(WorkerArchive.State.MISSING, second.state());

        // The training run's archive is put in place and taken (what trainingEnded does once the JVM accepts it).
        Files.writeString(first.file(), "an archive");
        accepted.add(first.file(), ArchiveFiles.identity(first.file()));
        assertEquals(WorkerArchive.State.READY, second.state(), "the next generation uses it instead of training again");
        assertTrue(second.useOptions().contains("-XX:SharedArchiveFile=" + first.file())
                || second.useOptions().contains("-XX:AOTCache=" + first.file()), second.useOptions().toString());
    }
}
