package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The test plays systemd: it listens on NOTIFY_SOCKET and passes sockets in as LISTEN_FDS. */
@Timeout(180)
class SystemdIT {
    private static final String GATED = "io.prefork.it.apps.GatedApp";

    @TempDir
    Path dir;

    private String gatedClasspath() {
        return RunningSupervisor.TEST_APPS + ":" + Jars.EXAMPLES;
    }

    @Test
    void notifyTellsReadyStatusReloadingWatchdogAndStoppingInOrder() throws Exception {
        Path hold = dir.resolve("hold");
        String address = "@prefork-it-notify-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (FakeSystemd systemd = FakeSystemd.listen(address);
             RunningSupervisor s = RunningSupervisor.start(dir, Map.of("NOTIFY_SOCKET", address, "WATCHDOG_USEC", "1000000"),
                     "-w", "2", "-b", "127.0.0.1:0", "--app", GATED, "--app-classpath", gatedClasspath(),
                     "--", hold.toString())) {
            // READY=1 only once both workers are READY, with STATUS and EXTEND_TIMEOUT_USEC before it.
            int ready = systemd.await(0, n -> n.has("READY=1"), Duration.ofSeconds(60), "READY=1");
            assertEquals(2, s.readyWorkers().size(), "READY=1 came before 2 workers were READY:\n" + s.logText());
            List<FakeSystemd.Notification> before = systemd.all().subList(0, ready);
            assertTrue(before.stream().anyMatch(n -> "0/2 workers READY".equals(n.value("STATUS"))), texts(before));
            assertTrue(before.stream().anyMatch(n -> n.value("EXTEND_TIMEOUT_USEC") != null), texts(before));
            int firstReady = systemd.await(0, n -> n.value("STATUS") != null && !n.value("STATUS").startsWith("0/"),
                    Duration.ofSeconds(1), "STATUS with a READY worker");
            assertTrue(systemd.all().subList(0, firstReady).stream().noneMatch(n -> n.has("WATCHDOG=1")),
                    "no watchdog before a worker is READY: " + texts(systemd.all()));
            systemd.await(0, n -> "2/2 workers READY".equals(n.value("STATUS")), Duration.ofSeconds(5), "STATUS=2/2");

            // FDSTORE=1: the listening socket itself went to systemd's fd store.
            int port = s.port();
            int stored = systemd.await(0, n -> n.has("FDSTORE=1"), Duration.ofSeconds(5), "FDSTORE=1");
            FakeSystemd.Notification store = systemd.all().get(stored);
            assertEquals("prefork-1", store.value("FDNAME"));
            assertEquals(1, store.fds().size());
            long storedInode = inode(store.fds().get(0));
            assertEquals(List.of(storedInode), ProcFs.listeningInodes(port), "the stored fd is the listening socket");

            // WATCHDOG=1 every half of WATCHDOG_USEC (500 ms).
            RunningSupervisor.pause(2600);
            List<Long> pings = times(systemd.all(), "WATCHDOG=1");
            assertTrue(pings.size() >= 4, "pings in 2.6 s: " + pings.size());
            List<Long> gaps = new ArrayList<>();
            for (int i = 1; i < pings.size(); i++) {
                gaps.add(TimeUnit.NANOSECONDS.toMillis(pings.get(i) - pings.get(i - 1)));
            }
            long median = gaps.stream().sorted().toList().get(gaps.size() / 2);
            assertTrue(median >= 400 && median <= 700, "median watchdog gap " + median + " ms, wanted ~500: " + gaps);

            // HUP: RELOADING=1 with CLOCK_MONOTONIC now, then READY=1 once the roll is done.
            int from = systemd.all().size();
            s.signal(Linux.SIGHUP);
            int reloading = systemd.await(from, n -> n.has("RELOADING=1"), Duration.ofSeconds(10), "RELOADING=1");
            FakeSystemd.Notification r = systemd.all().get(reloading);
            long monotonicUsec = Long.parseLong(r.value("MONOTONIC_USEC"));
            long skewMs = Math.abs(r.at() / 1000 - monotonicUsec) / 1000;
            assertTrue(skewMs < 2000, "MONOTONIC_USEC is " + skewMs + " ms off CLOCK_MONOTONIC at receipt");
            int reloaded = systemd.await(reloading, n -> n.has("READY=1"), Duration.ofSeconds(90), "READY=1 after the roll");
            assertTrue(s.logText().contains("rolling restart done: 2 worker(s) replaced"),
                    "READY=1 before the roll finished:\n" + s.logText());
            assertTrue(reloaded > reloading);

            // No worker can get READY: the watchdog goes quiet, and comes back with a READY worker.
            Files.createFile(hold);
            for (long pid : s.awaitReadyWorkers(2, Duration.ofSeconds(30)).values()) {
                Processes.kill(pid, Linux.SIGKILL);
            }
            s.awaitMatch(java.util.regex.Pattern.compile("READY -> EXITED"), 1, Duration.ofSeconds(10));
            long allDead = System.nanoTime();
            RunningSupervisor.pause(2500);
            List<Long> late = times(systemd.all(), "WATCHDOG=1").stream()
                    .filter(t -> t > allDead + TimeUnit.MILLISECONDS.toNanos(100)).toList();
            assertTrue(late.isEmpty(), late.size() + " WATCHDOG=1 while no worker was READY:\n" + s.logText());
            Files.delete(hold);
            int back = systemd.all().size();
            systemd.await(back, n -> n.has("WATCHDOG=1"), Duration.ofSeconds(60), "WATCHDOG=1 once a worker is READY");

            // TERM: STOPPING=1, then a clean exit.
            from = systemd.all().size();
            s.signal(Linux.SIGTERM);
            systemd.await(from, n -> n.has("STOPPING=1"), Duration.ofSeconds(10), "STOPPING=1");
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    @Test
    void socketActivationServesTheInheritedSocketWithoutBinding() throws Exception {
        Path info = dir.resolve("activated.txt");
        Path log = dir.resolve("supervisor.log");
        List<String> command = new ArrayList<>(List.of("python3",
                RunningSupervisor.HOME.resolve("supervisor/src/test/resources/socket-activate.py").toString(),
                info.toString(), "web"));
        // -b names a Unix socket that must not be bound: listener 0 is systemd's TCP socket, so an app that takes
        // its channel from the JVM may warm up on a private TCP listener of its own.
        Path notBound = dir.resolve("not-bound.sock");
        command.addAll(RunningSupervisor.command("-w", "2", "-b", "unix:" + notBound, "--worker-start", "plain"));
        RunningSupervisor.useTmp(command, dir);  // JUnit removes it, even after a failed test's SIGKILL
        Path notify = dir.resolve("notify.sock");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("NOTIFY_SOCKET", notify.toString());  // a path this time, not an abstract name
        try (FakeSystemd systemd = FakeSystemd.listen(notify.toString());
             RunningSupervisor s = RunningSupervisor.adopt(pb.start(), log)) {
            s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            systemd.await(0, n -> n.has("READY=1"), Duration.ofSeconds(10), "READY=1 on a path NOTIFY_SOCKET");
            assertTrue(systemd.all().stream().noneMatch(n -> n.has("FDSTORE=1")),
                    "systemd's own sockets are not stored back with it");
            List<String> lines = Files.readAllLines(info);
            int port = Integer.parseInt(lines.get(0));
            long inode = Long.parseLong(lines.get(1));
            assertTrue(s.logText().contains("socket activation: using 1 socket(s) from systemd (LISTEN_FDNAMES web)"),
                    s.logText());
            assertTrue(s.logText().contains("listening on 127.0.0.1:" + port), s.logText());
            assertFalse(Files.exists(notBound), "the -b address was not bound");
            assertEquals(List.of(inode), ProcFs.listeningInodes(port), "one listening socket: the helper's");
            for (long pid : s.readyWorkers().values()) {
                assertTrue(ProcFs.socketInodes(pid).contains(inode), "worker " + pid + " holds the inherited socket");
                String environ = Files.readString(Path.of("/proc/" + pid + "/environ"));
                for (String variable : List.of("LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
                        "PREFORK_WARMUP_LISTENER=")) {
                    assertFalse(("\0" + environ).contains("\0" + variable), "worker " + pid + " has " + variable);
                }
            }
            Http.Response response = Http.get(port, "/");
            assertEquals(200, response.status());
            assertTrue(s.readyWorkers().containsValue(response.workerPid()));
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    @Test
    void aUnixSocketFromSystemdIsListener0WhateverBSays() throws Exception {
        Path info = dir.resolve("activated.txt");
        Path log = dir.resolve("supervisor.log");
        Path socket = dir.resolve("web.sock");
        List<String> command = new ArrayList<>(List.of("python3",
                RunningSupervisor.HOME.resolve("supervisor/src/test/resources/socket-activate.py").toString(),
                "--unix", socket.toString(), info.toString(), "web"));
        command.addAll(RunningSupervisor.command("-w", "1", "-b", "127.0.0.1:1", "--worker-start", "plain"));
        RunningSupervisor.useTmp(command, dir);  // JUnit removes it, even after a failed test's SIGKILL
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        try (RunningSupervisor s = RunningSupervisor.adopt(pb.start(), log)) {
            long pid = s.awaitReadyWorkers(1, Duration.ofSeconds(60)).get(1);
            assertTrue(s.logText().contains("listening on unix:" + socket), s.logText());
            // Listener 0 is a Unix socket, so no private TCP listener for a warm-up: the app would take
            // TCP where it expects its Unix socket.
            String environ = Files.readString(Path.of("/proc/" + pid + "/environ"));
            assertTrue(("\0" + environ).contains("\0PREFORK_WARMUP_LISTENER=false\0"), "worker " + pid + "'s environment");
            Http.Response response = Http.get(Http.unix(socket), "/", Duration.ofSeconds(10));
            assertEquals(200, response.status());
            assertEquals(pid, response.workerPid());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    private static long inode(int fd) throws Exception {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        assertNotNull(target);
        assertTrue(target.startsWith("socket:["), target);
        return Long.parseLong(target.substring(8, target.length() - 1));
    }

    private static List<Long> times(List<FakeSystemd.Notification> all, String line) {
        return all.stream().filter(n -> n.has(line)).map(FakeSystemd.Notification::at).toList();
    }

    private static String texts(List<FakeSystemd.Notification> all) {
        return all.stream().map(FakeSystemd.Notification::text).toList().toString();
    }
}
