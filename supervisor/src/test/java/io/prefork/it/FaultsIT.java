package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults at the supervisor's edges: each time service goes on, the log says what happened once and
 * clearly, and nothing is lost that could be kept. The misbehaving workers are the Python example
 * worker with one thing changed.
 */
@Timeout(180)
class FaultsIT {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static final Path PYTHON_WORKER = RunningSupervisor.HOME.resolve("examples/python/prefork_worker.py");

    @TempDir
    Path dir;

    /** A Python worker program: {@code body} runs with the example worker importable as {@code w}. */
    private String pythonWorker(String name, String body) throws Exception {
        Tools.require("python3", "the Python worker");
        Path script = dir.resolve(name + ".py");
        Files.writeString(script, "import os, sys, socket, time, runpy\nsys.path.insert(0, '" + PYTHON_WORKER.getParent()
                + "')\nimport prefork_worker as w\n" + body);
        return "python3 " + script;
    }

    @Test
    void aWorkerThatConnectsAndNeverSaysHelloIsDroppedAndReplacedWhileTheOthersServe() throws Exception {
        Path marker = dir.resolve("silent-once");
        String worker = pythonWorker("silent", "if os.environ.get('PREFORK_WORKER_ID') == '1' and not os.path.exists('"
                + marker + "'):\n    open('" + marker + "', 'w').close()\n"
                + "    s = socket.socket(socket.AF_UNIX)\n    s.connect(os.environ['PREFORK_CONTROL_SOCKET'])\n    time.sleep(300)\n"
                + "w.main()\n");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--boot-timeout", "4",
                "--worker-command", worker)) {
            int port = s.port();
            s.awaitMatch(java.util.regex.Pattern.compile("worker 2 \\(pid \\d+\\): BOOTING -> READY"), 0, BOOT);
            for (int i = 0; i < 20; i++) {  // served meanwhile, by worker 2
                assertEquals(200, Http.get(port, "/").status());
                RunningSupervisor.pause(100);
            }
            s.awaitReadyWorkers(2, BOOT);
            assertEquals(1, s.count("worker 1 \\(pid \\d+\\): not READY within --boot-timeout 4 s; killing it"), s.logText());
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    void aWorkerThatFloodsHeartbeatsIsReadNoFasterThanAThousandASecondAndTheLoopGoesOn() throws Exception {
        String worker = pythonWorker("flood", "def flood(self, every):\n"
                + "    while True:\n        self.quietly('HEARTBEAT', self.requests)\n"
                + "if os.environ.get('PREFORK_WORKER_ID') == '1':\n    w.Worker.heartbeats = flood\nw.main()\n");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--worker-command", worker)) {
            int port = s.port();
            java.util.Map<Integer, Long> ready = s.awaitReadyWorkers(2, BOOT);
            s.awaitLine("control: pid " + ready.get(1) + " sends more than 1000 messages a second", BOOT);
            long rssBefore = rssKib(s.pid());
            RunningSupervisor.pause(3000);
            Processes.kill(ready.get(2), Linux.SIGKILL);  // the loop still replaces workers
            long next = s.awaitNewReady(2, ready.get(2), BOOT);
            assertTrue(next > 0, s.logText());
            long t0 = System.nanoTime();
            assertEquals(0, RunningSupervisor.ctl(dir, "status").code());
            long ctlMs = (System.nanoTime() - t0) / 1_000_000;
            long rssAfter = rssKib(s.pid());
            System.out.printf("heartbeat flood: supervisor RSS %d -> %d KiB over 3 s; ctl status in %d ms%n", rssBefore,
                    rssAfter, ctlMs);
            assertTrue(rssAfter < rssBefore + 32 * 1024, "the supervisor's memory grew from " + rssBefore + " to " + rssAfter + " KiB");
            assertEquals(1, s.count("sends more than 1000 messages a second"), s.logText());
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    void thePidFilesDirectoryRemovedWhileRunningIsSaidOnceAtTheStop() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path pid = run.resolve("prefork.pid");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--pid", pid.toString())) {
            s.awaitReadyWorkers(1, BOOT);
            assertEquals(Long.toString(s.pid()), Files.readString(pid).trim());
            Files.delete(pid);
            Files.delete(run);
            assertEquals(200, Http.get(s.port(), "/").status());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(BOOT));
            assertEquals(1, s.count("WARN pid file " + java.util.regex.Pattern.quote(pid.toString())
                    + " was removed while the supervisor ran"), s.logText());
        }
    }

    /**
     * At its fd limit, the supervisor cannot accept admin connections: they wait in the queue, the log
     * says so once, the loop goes on (a killed worker is seen), and once fds are free again it accepts
     * them and replaces the worker, without a restart.
     */
    @Test
    void atItsFdLimitTheSupervisorKeepsItsLoopAndAcceptsAgainOnceFdsAreFree() throws Exception {
        String prlimit = Tools.require("prlimit", "setting a running process's fd limit (util-linux)");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            java.util.Map<Integer, Long> ready = s.awaitReadyWorkers(2, BOOT);
            long fds;
            try (Stream<Path> f = Files.list(Path.of("/proc/" + s.pid() + "/fd"))) {
                fds = f.count();
            }
            String soft = Files.readAllLines(Path.of("/proc/" + s.pid() + "/limits")).stream()
                    .filter(l -> l.startsWith("Max open files")).findFirst().orElseThrow().split("\\s+")[3];
            run(prlimit, "--pid", Long.toString(s.pid()), "--nofile=" + (fds + 2) + ":");  // the soft limit: it may rise again
            List<SocketChannel> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {  // silent admin clients: each accepted one takes an fd
                    SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                    c.connect(UnixDomainSocketAddress.of(dir.resolve("prefork.ctl")));
                    clients.add(c);
                }
                s.awaitLine("admin: cannot accept a connection \\(Too many open files\\)", BOOT);
                Processes.kill(ready.get(1), Linux.SIGKILL);
                s.awaitLine("worker 1 \\(pid " + ready.get(1) + "\\): READY -> EXITED", BOOT);  // the loop goes on
            } finally {
                for (SocketChannel c : clients) {
                    c.close();
                }
            }
            run(prlimit, "--pid", Long.toString(s.pid()), "--nofile=" + soft + ":");
            assertTrue(s.awaitNewReady(1, ready.get(1), BOOT) > 0, "worker 1 replaced:\n" + s.logText());
            s.awaitLine("admin: accepting connections again", BOOT);
            assertEquals(0, RunningSupervisor.ctl(dir, "status").code(), s.logText());
            assertEquals(1, s.count("admin: cannot accept a connection"), s.logText());
            assertFalse(s.logText().contains("accept failed"), s.logText());
        }
    }

    /**
     * --log-file on a full file system (a 256 KiB tmpfs the test mounts): the lines that cannot be
     * written are lost, service is not, and the first line that can be written again says how many
     * were lost and why, once.
     */
    @Test
    void aLogFileOnAFullFileSystemLosesLinesButNotServiceAndSaysSoOnce() throws Exception {
        if (!"0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim())) {
            Tools.missing("root (to mount a small tmpfs) is not available");
        }
        Path full = Files.createDirectories(dir.resolve("full"));
        run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", full.toString());
        try {
            Path logFile = full.resolve("prefork.log");
            try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0",
                    "--log-file", logFile.toString())) {
                s.watchLog(logFile);
                java.util.Map<Integer, Long> ready = s.awaitReadyWorkers(2, BOOT);
                Path filler = full.resolve("filler");
                try (var out = Files.newOutputStream(filler)) {
                    byte[] block = new byte[4096];
                    while (true) {
                        out.write(block);
                        out.flush();
                    }
                } catch (java.io.IOException diskFull) {
                    // the file system is full now, but for what the log file's last page has left
                }
                try (var out = Files.newOutputStream(logFile, java.nio.file.StandardOpenOption.APPEND)) {
                    while (true) {
                        out.write('#');
                        out.flush();
                    }
                } catch (java.io.IOException diskFull) {
                    // and now that too
                }
                Processes.kill(ready.get(1), Linux.SIGKILL);  // its exit and its replacement cannot be logged
                long deadline = System.nanoTime() + BOOT.toNanos();
                while (true) {
                    String status = RunningSupervisor.ctl(dir, "status").out();
                    if (!status.contains(" " + ready.get(1) + " ") && status.split("READY", -1).length - 1 >= 2) {
                        break;  // replaced and READY, as the admin socket tells
                    }
                    assertTrue(System.nanoTime() < deadline, "worker 1 not replaced: " + status);
                    RunningSupervisor.pause(100);
                }
                assertEquals(200, Http.get(s.port(), "/").status());
                Files.delete(filler);
                Processes.kill(ready.get(2), Linux.SIGKILL);  // something to log, now that it can be written
                s.awaitLine("WARN \\d+ log line\\(s\\) before this one could not be written \\(No space left on device\\);"
                        + " service went on", BOOT);
                s.awaitNewReady(2, ready.get(2), BOOT);
                assertEquals(1, s.count("could not be written"), s.logText());
                assertFalse(s.logText().contains("worker 1 (pid " + ready.get(1) + "): READY -> EXITED"),
                        "that line was lost:\n" + s.logText());
            }
        } finally {
            unmount(full);
        }
    }

    /** The supervisor's workers may hold the log file a moment after it is gone: retry, then detach it (lazy). */
    private static void unmount(Path mountPoint) throws Exception {
        for (int i = 0; i < 50; i++) {
            Process p = new ProcessBuilder("umount", mountPoint.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0) {
                return;
            }
            RunningSupervisor.pause(200);
        }
        run("umount", "-l", mountPoint.toString());
    }

    private static long rssKib(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    }
}
