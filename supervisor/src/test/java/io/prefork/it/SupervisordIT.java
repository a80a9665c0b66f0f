package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** scripts/supervisord/prefork.conf, as shipped (paths and port swapped), under a real supervisord. */
@Timeout(240)
class SupervisordIT {
    @TempDir
    Path dir;

    @Test
    void hupRollsWithZeroFailuresAndStopIsGracefulWithNoOrphan() throws Exception {
        String supervisord = Tools.require("supervisord", "Debian package supervisor");
        Tools.require("supervisorctl", "Debian package supervisor");
        Path conf = writeConfig();
        Path log = dir.resolve("prefork.log");
        Files.createFile(log);
        Process daemon = new ProcessBuilder(supervisord, "-n", "-c", conf.toString()).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("supervisord.out").toFile()).start();
        try (RunningSupervisor s = RunningSupervisor.adopt(daemon, log)) {
            int port = s.port();
            Map<Integer, Long> first = s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            long supervisorPid = Long.parseLong(ctl(conf, "pid", "prefork").strip());
            assertTrue(Files.readSymbolicLink(Path.of("/proc/" + supervisorPid + "/exe")).toString().endsWith("/java"),
                    "supervisord's child is the supervisor JVM itself");

            try (Load load = Load.start(port, 2, 2, 40)) {
                RunningSupervisor.pause(500);
                ctl(conf, "signal", "HUP", "prefork");
                s.awaitLine("rolling restart done: 2 worker\\(s\\) replaced", Duration.ofSeconds(120));
                RunningSupervisor.pause(500);
                assertEquals(List.of(), load.failures(), "failed requests during the roll: " + load.summary());
                assertTrue(load.ok() > 100, load.summary());
            }
            Map<Integer, Long> second = s.readyWorkers();
            assertTrue(second.values().stream().noneMatch(first.values()::contains), "every worker is new: " + second);

            String stopped = ctl(conf, "stop", "prefork");
            assertTrue(stopped.contains("prefork: stopped"), stopped);
            assertTrue(s.logText().contains("graceful stop (SIGTERM)"), s.logText());
            assertTrue(s.logText().contains("all workers are gone; exiting"), s.logText());
            Set<Long> everyWorker = s.allWorkerPids();
            for (long pid : everyWorker) {
                assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(5)), "worker " + pid + " outlived the stop");
            }
            assertTrue(RunningSupervisor.awaitGone(supervisorPid, Duration.ofSeconds(5)));
            assertEquals(List.of(), daemon.descendants().map(ProcessHandle::pid).toList(), "nothing left under supervisord");
            ctl(conf, "shutdown");
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "supervisord shut down");
        }
    }

    /** The shipped recipe, pointed at this checkout and a port-0 bind, inside a minimal supervisord.conf. */
    private Path writeConfig() throws Exception {
        String program = Files.readString(RunningSupervisor.HOME.resolve("scripts/supervisord/prefork.conf"))
                .replace("/opt/prefork", RunningSupervisor.HOME.toString())
                .replace("-w 4 -b 127.0.0.1:8080", "-w 2 -b 127.0.0.1:0 --worker-start plain --cache-dir " + dir.resolve("cache"))
                .replace("/run/prefork.ctl", dir.resolve("prefork.ctl").toString())
                .replace("/var/log/prefork.log", dir.resolve("prefork.log").toString())
                // its socket directories go with the test's, which JUnit removes even after a SIGKILL
                .replace("\ncommand=", "\nenvironment=TMPDIR=\"" + dir + "\"\ncommand=");
        assertTrue(program.contains("environment=TMPDIR=") && program.contains(RunningSupervisor.HOME.toString()) && program.contains("127.0.0.1:0"),
                "the recipe's placeholders changed; update this test:\n" + program);
        String sock = dir.resolve("supervisor.sock").toString();
        String main = String.join("\n",
                "[unix_http_server]", "file=" + sock, "",
                "[supervisord]", "nodaemon=true", "logfile=" + dir.resolve("supervisord.log"),
                "pidfile=" + dir.resolve("supervisord.pid"), "childlogdir=" + dir, "user=root", "",
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
                "[supervisorctl]", "serverurl=unix://" + sock, "", program);
        return Files.writeString(dir.resolve("supervisord.conf"), main);
    }

    private String ctl(Path conf, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("supervisorctl", "-c", conf.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "supervisorctl-", ".out");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("supervisorctl " + String.join(" ", args) + " did not finish within 90 s");
            }
            String text = Files.readString(out);
            // supervisord may not have its socket up yet right after start
            if (!text.contains("no such file") && !text.contains("refused") || System.nanoTime() > deadline) {
                return text;
            }
            RunningSupervisor.pause(100);
        }
    }
}
