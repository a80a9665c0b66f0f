package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The README's Signals table is the contract: every signal in it is sent here and its effect checked. */
@Timeout(180)
class SignalsIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private final Set<String> exercised = new LinkedHashSet<>();

    private void send(RunningSupervisor s, String name, int number) throws Exception {
        exercised.add(name);
        s.signal(number);
    }

    @Test
    void everySignalInTheReadmeTableDoesWhatItSays() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            s.awaitReadyWorkers(1, BOOT);

            send(s, "QUIT", Linux.SIGQUIT);
            s.awaitLine("Full thread dump", BOOT);
            s.awaitLine("\"prefork-control-accept\"", BOOT);

            send(s, "USR1", Linux.SIGUSR1);
            s.awaitLine("SIGUSR1: logs go to stderr \\(no --log-file\\); nothing to reopen", BOOT);

            send(s, "TTIN", Linux.SIGTTIN);
            s.awaitLine("workers: 1 -> 2 \\(SIGTTIN\\)", BOOT);
            s.awaitReadyWorkers(2, BOOT);

            send(s, "TTOU", Linux.SIGTTOU);
            s.awaitLine("workers: 2 -> 1 \\(SIGTTOU\\)", BOOT);
            s.awaitLine("worker 2 \\(pid \\d+\\): DRAINING -> EXITED", BOOT);

            send(s, "WINCH", Linux.SIGWINCH);
            s.awaitLine("workers: 1 -> 0 \\(SIGWINCH\\)", BOOT);
            s.awaitLine("worker 1 \\(pid \\d+\\): DRAINING -> EXITED", BOOT);
            assertTrue(s.readyWorkers().isEmpty());
            assertTrue(s.process.isAlive(), "the supervisor stays");
            try (Socket parked = new Socket()) {
                parked.connect(new InetSocketAddress("127.0.0.1", port), 5_000); // the socket is still there
            }

            send(s, "HUP", Linux.SIGHUP);
            s.awaitLine("workers: 0 -> 1 \\(SIGHUP\\)", BOOT);
            s.awaitReadyWorkers(1, BOOT);
            assertEquals(200, Http.get(port, "/").status());

            send(s, "TERM", Linux.SIGTERM);
            s.awaitLine("graceful stop \\(SIGTERM\\)", BOOT);
            assertEquals(0, s.awaitExit(BOOT));
        }
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            s.awaitReadyWorkers(1, BOOT);
            send(s, "INT", Linux.SIGINT);
            s.awaitLine("fast stop \\(SIGINT\\)", BOOT);
            assertEquals(0, s.awaitExit(BOOT));
        }
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            s.awaitReadyWorkers(1, BOOT);
            send(s, "USR2", Linux.SIGUSR2);
            long next = Long.parseLong(s.awaitLine("upgraded: the new supervisor, pid (\\d+), serves now", BOOT).group(1));
            assertEquals(0, s.awaitExit(BOOT), "the old supervisor hands over and exits");
            assertEquals(200, Http.get(port, "/").status(), "the new one serves");
            io.prefork.posix.Processes.kill(next, Linux.SIGTERM);
            assertTrue(RunningSupervisor.awaitGone(next, BOOT), "and stops on TERM");
        }
        assertEquals(readmeSignals(), exercised, "the README's Signals table and this test cover the same signals");
    }

    private static Set<String> readmeSignals() throws Exception {
        String readme = Files.readString(RunningSupervisor.HOME.resolve("README.md"));
        String section = readme.substring(readme.indexOf("## Signals"));
        section = section.substring(0, section.indexOf("\n## ", 5));
        Set<String> signals = new LinkedHashSet<>();
        Matcher m = Pattern.compile("(?m)^\\| `([A-Z0-9]+)` \\|").matcher(section);
        while (m.find()) {
            signals.add(m.group(1));
        }
        return signals;
    }

    @Test
    void aSignalIgnoredAtStartIsNamedInAWarning() throws Exception {
        // What nohup does to HUP: the JVM then cannot handle it, and must say so.
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""));
        cmd.addAll(RunningSupervisor.command("-w", "1", "-b", "127.0.0.1:0"));
        RunningSupervisor.useTmp(cmd, dir);  // its socket directories go with the test's, SIGKILLed at the end
        Path log = dir.resolve("nohup.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (RunningSupervisor s = RunningSupervisor.adopt(p, log)) {
            s.awaitLine("WARN SIGHUP was ignored when prefork started \\(nohup or a background job\\?\\); it will have no effect", BOOT);
            s.awaitReadyWorkers(1, BOOT);
            assertFalse(s.logText().contains("SIGTERM was ignored"), "only the ignored one is named");
        }
    }

    @Test
    void usr1ReopensTheLogFileAfterItWasRotated() throws Exception {
        Path logFile = dir.resolve("prefork.log");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--log-file", logFile.toString())) {
            s.watchLog(logFile);
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            assertTrue(s.logText().contains("prefork worker 1 (pid " + pid + "): ready"), "workers log to the file too");
            Path rotated = dir.resolve("prefork.log.1");
            Files.move(logFile, rotated);
            s.signal(Linux.SIGUSR1);
            s.watchLog(logFile);
            s.awaitLine("SIGUSR1: reopened the log file", BOOT);
            s.awaitLine("prefork worker 1 \\(pid " + pid + "\\): reopened " + Pattern.quote(logFile.toString()), BOOT);
            assertFalse(Files.readString(rotated).contains("reopened"), "nothing new goes to the rotated file");
        }
    }

    @Test
    void hupRereadsTheConfigFileAndTheCommandLineWins() throws Exception {
        Path config = dir.resolve("prefork.properties");
        Files.writeString(config, "workers=1\nbind=127.0.0.1:0\ngraceful-timeout=5\n");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "--config", config.toString(), "--boot-timeout", "90")) {
            s.awaitReadyWorkers(1, BOOT);
            Files.writeString(config, "workers=2\nbind=127.0.0.1:0\ngraceful-timeout=5\nboot-timeout=1\n");
            s.signal(Linux.SIGHUP);
            s.awaitLine("workers: 1 -> 2 \\(SIGHUP\\)", BOOT);
            s.awaitLine("rolling restart done: 1 worker\\(s\\) replaced", BOOT);
            assertEquals(2, s.awaitReadyWorkers(2, BOOT).size());
            // boot-timeout=1 in the file would have killed every new JVM: the command line's 90 won.
            assertFalse(s.logText().contains("not READY within"), s.logText());
        }
        List<String> unknown = List.of("prefork: config file " + dir.resolve("bad.properties") + ": unknown key 'wrokers'");
        Files.writeString(dir.resolve("bad.properties"), "wrokers=2\n");
        Process p = new ProcessBuilder(RunningSupervisor.command("--config", dir.resolve("bad.properties").toString()))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(unknown, new String(p.getErrorStream().readAllBytes()).lines().toList());
        assertEquals(2, p.exitValue());
    }
}
