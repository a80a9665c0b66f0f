package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.Log;
import io.prefork.supervisor.WorkerLauncher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the supervisor writes down for scripts/prefork, and when (the taking itself: FirstWorkerIT). */
class FirstWorkerTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8));

    private static final Map<String, String> LAUNCHED = Map.of("HOME", "/root", "_", "/usr/bin/java",
            "PREFORK_CONTROL_SOCKET", "/tmp/prefork-control-1/control.sock", "PREFORK_TOKEN", "secret",
            "PREFORK_MAX_REQUESTS", "1003", "PREFORK_WORKER_ID", "1", "PREFORK_READY", "auto");

    @Test
    void theWorkerStartedBesideHasTheLauncherEnvironmentLessWhatEachStartTellsIt() {
        assertEquals(Map.of("HOME", "/root", "PREFORK_WORKER_ID", "1", "PREFORK_READY", "auto", "PREFORK_STARTED_BESIDE", "1"),
                FirstWorker.expectedEnvironment(LAUNCHED));
    }

    @Test
    void theFileUnsetsWhatTheWorkerDoesNotGetAndSetsWhatItGetsMoreThenNamesTheCommand() {
        Map<String, String> ours = Map.of("HOME", "/root", "_", "/usr/bin/java", "NOTIFY_SOCKET", "/run/notify",
                FirstWorker.FILE, "/cache/first-worker-1", FirstWorker.STARTED, "12:11");
        byte[] content = FirstWorker.fileContent(List.of("java", "-cp", "a b", "io.prefork.worker.Launcher", "App"),
                FirstWorker.expectedEnvironment(LAUNCHED), ours);
        assertEquals(List.of("prefork first worker 1", "-NOTIFY_SOCKET", "PREFORK_READY=auto", "PREFORK_STARTED_BESIDE=1",
                "PREFORK_WORKER_ID=1", "--", "java", "-cp", "a b", "io.prefork.worker.Launcher", "App"),
                FirstWorker.entries(content));
        assertEquals(0, content[content.length - 1], "every entry ends with a NUL, the last too");
    }

    @Test
    void onlyTheFirstLaunchWritesItAndOnlyForWorkerOneOfPreforksLauncher() throws Exception {
        Path file = dir.resolve("cache/first-worker-7");
        List<String> command = List.of("java", "io.prefork.worker.Launcher", "App");
        WorkerLauncher.Spec one = new WorkerLauncher.Spec(1, "secret", 0, false);

        FirstWorker notOurs = new FirstWorker(file, -1, -1, log);
        assertNull(notOurs.take(one, command, LAUNCHED, false));
        assertFalse(Files.exists(file), "a --worker-command or a --user worker is not written down");

        FirstWorker spare = new FirstWorker(file, -1, -1, log);
        assertNull(spare.take(new WorkerLauncher.Spec(0, "secret", 0, false), command, LAUNCHED, true));
        assertFalse(Files.exists(file), "a first launch that is not worker 1's writes nothing");

        FirstWorker first = new FirstWorker(file, -1, -1, log);
        assertNull(first.take(one, command, LAUNCHED, true), "with nothing started beside, the launcher starts worker 1");
        List<String> written = FirstWorker.entries(Files.readAllBytes(file));
        assertEquals(command, written.subList(written.indexOf("--") + 1, written.size()));
        assertNull(first.take(one, List.of("java", "other"), LAUNCHED, true));
        assertEquals(written, FirstWorker.entries(Files.readAllBytes(file)), "a second launch writes nothing");
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file left");
        }
        assertEquals("", logged.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aCommandThatChangesLaterIsWrittenAgainWithTheFirstLaunchsEnvironment() throws Exception {
        Path file = dir.resolve("cache/first-worker-3");
        List<String> archived = List.of("java", "-XX:SharedArchiveFile=/cache/worker-x.jsa", "io.prefork.worker.Launcher", "App");

        FirstWorker notWritten = new FirstWorker(file, -1, -1, log);
        notWritten.take(new WorkerLauncher.Spec(1, "secret", 0, false), List.of("java", "App"), LAUNCHED, false);
        notWritten.commandChanged(archived);
        assertFalse(Files.exists(file), "what was not written down at the first launch is not written later either");

        FirstWorker first = new FirstWorker(file, -1, -1, log);
        first.take(new WorkerLauncher.Spec(1, "secret", 0, false), List.of("java", "io.prefork.worker.Launcher", "App"),
                LAUNCHED, true);
        List<String> before = FirstWorker.entries(Files.readAllBytes(file));
        first.commandChanged(archived);
        List<String> after = FirstWorker.entries(Files.readAllBytes(file));
        assertEquals(archived, after.subList(after.indexOf("--") + 1, after.size()), "the class archive is in the command now");
        assertEquals(before.subList(0, before.indexOf("--")), after.subList(0, after.indexOf("--")), "the environment as before");
    }

    @Test
    void aPidThatIsNotAChildOfThisProcessIsNeitherTakenNorKilled() {
        long notOurs = ProcessHandle.current().parent().orElseThrow().pid();  // the test JVM's parent: alive, not our child
        FirstWorker first = new FirstWorker(dir.resolve("first-worker-1"), notOurs, 99, log);
        assertNull(first.take(new WorkerLauncher.Spec(1, "secret", 0, false), List.of("java"), LAUNCHED, true));
        assertTrue(ProcessHandle.of(notOurs).map(ProcessHandle::isAlive).orElse(false), "it still runs");
        assertTrue(logged.toString(StandardCharsets.UTF_8).contains("names pid " + notOurs + ", which is not a child"),
                logged.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theScriptsVariablesAreReadAndAMalformedOneIsRefusedWithAWarning() {
        assertNull(FirstWorker.fromEnvironment(Map.of(), log));
        assertTrue(FirstWorker.fromEnvironment(Map.of(FirstWorker.FILE, "/c/first-worker-1"), log) != null);
        assertNull(FirstWorker.fromEnvironment(Map.of(FirstWorker.FILE, "/c/f", FirstWorker.STARTED, "12"), log));
        assertTrue(logged.toString(StandardCharsets.UTF_8).contains("PREFORK_FIRST_WORKER_STARTED=12 is not pid:fd"),
                logged.toString(StandardCharsets.UTF_8));
    }
}
