package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl upgrade}: the supervisor replaces itself with the scripts and jars on disk, handing the
 * listening sockets over (SCM_RIGHTS) without a failed request. Each test runs a copy of the built
 * installation, so it can break the copy's jars.
 */
@Timeout(240)
class UpgradeIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    /** scripts/prefork and the jars it runs, in the same layout, as an installation would have them. */
    private Path install() throws Exception {
        Path home = dir.resolve("install");
        Path h = RunningSupervisor.HOME;
        Files.createDirectories(home.resolve("scripts"));
        Files.copy(h.resolve("scripts/prefork"), home.resolve("scripts/prefork"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(home.resolve("supervisor/target/lib"));
        Files.copy(h.resolve("supervisor/target/prefork-supervisor.jar"), home.resolve("supervisor/target/prefork-supervisor.jar"));
        try (Stream<Path> jars = Files.list(h.resolve("supervisor/target/lib"))) {
            for (Path jar : jars.toList()) {
                Files.copy(jar, home.resolve("supervisor/target/lib").resolve(jar.getFileName()));
            }
        }
        Files.createDirectories(home.resolve("examples/target"));
        Files.copy(Jars.EXAMPLES, home.resolve("examples/target/prefork-examples.jar"));
        return home;
    }

    private RunningSupervisor start(List<String> prefix, Path home, String... args) throws Exception {
        return start(prefix, Map.of(), home, args);
    }

    private RunningSupervisor start(List<String> prefix, Map<String, String> env, Path home, String... args) throws Exception {
        Path log = dir.resolve("supervisor.log");
        List<String> command = new ArrayList<>(prefix);
        command.add(home.resolve("scripts/prefork").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // The script keeps the supervisor's class archive in the cache directory: this test's own.
        pb.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        // And the socket directories of every supervisor it starts, old and new, the test's own too:
        // those the teardown SIGKILLs cannot remove them.
        pb.environment().put("TMPDIR", Files.createDirectories(dir.resolve("tmp")).toString());
        pb.environment().putAll(env);
        return RunningSupervisor.adopt(pb.start(), log);
    }

    /** {@code ctl upgrade} succeeds: the new supervisor's pid, once the old one has exited 0. */
    private long upgrade(RunningSupervisor old) throws Exception {
        RunningSupervisor.CtlResult up = RunningSupervisor.ctl(dir, "upgrade");
        assertEquals(0, up.code(), up.err() + "\n" + old.logText());
        Matcher m = old.awaitLine("upgraded: the new supervisor, pid (\\d+), serves now", BOOT);
        assertEquals(0, old.awaitExit(Duration.ofSeconds(40)), "the old supervisor exits 0");
        return Long.parseLong(m.group(1));
    }

    private static final String[] ARGS = {"-w", "2", "-b", "127.0.0.1:0", "--worker-start", "plain", "--pid", "prefork.pid"};

    /**
     * With every core saturated: an upgrade must lose nothing when the machine is busy. Run as root
     * (CI), the workers run as nobody (--user), so that the new supervisor, root as the old one, is
     * shown to start its workers through setpriv and hand them its control socket by its group.
     */
    @Test
    void underLoadTheNewSupervisorTakesOverTheSameSocketWithZeroFailures() throws Exception {
        List<String> args = new ArrayList<>(List.of(ARGS));
        boolean asNobody = PrivilegesIT.isRoot();
        if (asNobody) {
            // nobody reads the installation's jars and the cache: the test's directory is root's, 0700
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            args.addAll(List.of("--user", "nobody", "--cache-dir", Files.createDirectories(dir.resolve("cache")).toString(),
                    "--jvm-opt=-XX:-UsePerfData"));  // else nobody's JVMs leave /tmp/hsperfdata_nobody
        }
        Path home = install();
        String notify = "@prefork-it-upgrade-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (CpuSaturation busy = CpuSaturation.start();
             FakeSystemd systemd = FakeSystemd.listen(notify);
             RunningSupervisor old = start(List.of(), Map.of("NOTIFY_SOCKET", notify), home, args.toArray(String[]::new))) {
            int port = old.port();
            Map<Integer, Long> oldWorkers = old.awaitReadyWorkers(2, BOOT);
            List<Long> inode = ProcFs.listeningInodes(port);
            assertEquals(1, inode.size());
            assertEquals(old.pid() + "\n", Files.readString(dir.resolve("prefork.pid")));
            try (Load load = Load.start(port, 2, 2, 40)) {
                RunningSupervisor.pause(500);
                long newPid = upgrade(old);
                for (long pid : oldWorkers.values()) {
                    assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(10)), "old worker " + pid + " is gone");
                }
                old.awaitLine("upgrade: this supervisor \\(pid " + newPid + "\\) has taken over", BOOT);
                RunningSupervisor.pause(1000);  // traffic on the new supervisor's workers alone
                assertEquals(List.of(), load.failures(), "failed requests: " + load.summary());
                assertTrue(load.ok() > 200, load.summary());
                assertEquals(newPid + "\n", Files.readString(dir.resolve("prefork.pid")), "the pid file names the new one");
                assertTrue(ProcessHandle.of(newPid).map(ProcessHandle::isAlive).orElse(false));
                assertEquals(inode, ProcFs.listeningInodes(port), "the same listening socket");
                // systemd is told to follow the new main process, and never that the service stops
                systemd.await(0, n -> n.has("MAINPID=" + newPid), Duration.ofSeconds(5), "MAINPID=" + newPid);
                assertTrue(systemd.all().stream().noneMatch(n -> n.has("STOPPING=1")), "no STOPPING=1 on a hand-over");
                List<Long> newWorkers = load.pidsLastSeen.keySet().stream().filter(pid -> !oldWorkers.containsValue(pid)).toList();
                assertTrue(!newWorkers.isEmpty(), "new workers answered: " + load.pidsLastSeen.keySet());
                for (long pid : asNobody ? newWorkers : List.<Long>of()) {
                    PrivilegesIT.assertNobody(pid);
                }
            }
            RunningSupervisor.CtlResult status = RunningSupervisor.ctl(dir, "status");
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("READY"), status.out());
        }
    }

    @Test
    void anUpgradeToABrokenInstallationLeavesTheOldSupervisorServing() throws Exception {
        Path home = install();
        try (RunningSupervisor old = start(List.of(), home, ARGS)) {
            int port = old.port();
            Map<Integer, Long> workers = old.awaitReadyWorkers(2, BOOT);
            // A broken release on disk: its app's main throws. The running workers have theirs open.
            Path broken = Jars.brokenHelloApp(dir);
            Path target = home.resolve("examples/target/prefork-examples.jar");
            Files.copy(broken, target.resolveSibling("incoming.jar"));
            Files.move(target.resolveSibling("incoming.jar"), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (Load load = Load.start(port, 2, 2, 40)) {
                RunningSupervisor.CtlResult up = RunningSupervisor.ctl(dir, "upgrade");
                assertEquals(1, up.code(), up.out());
                assertTrue(up.err().startsWith("prefork ctl: upgrade failed: the new supervisor failed: workers failed to boot"
                        + " 5 times in a row; last: the app's main threw java.lang.IllegalStateException: broken build"),
                        up.err());
                assertTrue(up.err().endsWith("; this supervisor keeps serving\n"), up.err());
                RunningSupervisor.pause(500);
                assertEquals(List.of(), load.failures(), "failed requests: " + load.summary());
            }
            assertTrue(old.process.isAlive(), "the old supervisor serves on");
            assertEquals(workers, old.readyWorkers(), "with the same workers");
            assertEquals(old.pid() + "\n", Files.readString(dir.resolve("prefork.pid")));
            assertEquals(200, Http.get(port, "/").status());
            RunningSupervisor.CtlResult status = RunningSupervisor.ctl(dir, "status");
            assertEquals(0, status.code(), "the admin socket is still the old supervisor's: " + status.err());
        }
    }

    @Test
    void socketActivatedListenersAreHandedOverToo() throws Exception {
        Path home = install();
        Path info = dir.resolve("activated.txt");
        List<String> activate = List.of("python3",
                RunningSupervisor.HOME.resolve("supervisor/src/test/resources/socket-activate.py").toString(),
                info.toString(), "web");
        try (RunningSupervisor old = start(activate, home, ARGS)) {
            old.awaitReadyWorkers(2, BOOT);
            List<String> lines = Files.readAllLines(info);
            int port = Integer.parseInt(lines.get(0));
            long inode = Long.parseLong(lines.get(1));
            try (Load load = Load.start(port, 2, 2, 40)) {
                long newPid = upgrade(old);
                assertNotEquals(old.pid(), newPid);
                RunningSupervisor.pause(1000);
                assertEquals(List.of(), load.failures(), "failed requests: " + load.summary());
            }
            assertEquals(List.of(inode), ProcFs.listeningInodes(port), "still systemd's (the helper's) socket");
        }
    }

    @Test
    void withReuseportEverySlotsSocketIsHandedOverAndStaysItsSlots() throws Exception {
        Path home = install();
        try (RunningSupervisor old = start(List.of(), home, "-w", "3", "-b", "127.0.0.1:0", "--balance", "reuseport",
                "--worker-start", "plain")) {
            int port = old.port();
            old.awaitReadyWorkers(3, BOOT);
            Set<Long> sockets = Set.copyOf(ProcFs.listeningInodes(port));
            assertEquals(3, sockets.size(), "one SO_REUSEPORT socket per slot");
            try (Load load = Load.start(port, 2, 4, 40)) {
                RunningSupervisor.pause(500);
                long newPid = upgrade(old);
                old.awaitLine("upgrade: this supervisor \\(pid " + newPid + "\\) has taken over", BOOT);
                RunningSupervisor.pause(1000);
                // A socket left behind would have reset the connections the kernel had hashed to it.
                assertEquals(List.of(), load.failures(), "failed requests: " + load.summary());
                assertTrue(load.ok() > 200, load.summary());
            }
            assertEquals(sockets, Set.copyOf(ProcFs.listeningInodes(port)), "the same three sockets, no more, no fewer");
            assertTrue(old.logText().contains(": slot 3's own (taken over from pid " + old.pid() + ")"), old.logText());
            // Still one socket per slot: a new slot binds a fourth one on the same port.
            RunningSupervisor.CtlResult scale = RunningSupervisor.ctl(dir, "scale", "4");
            assertEquals(0, scale.code(), scale.err());
            long deadline = System.nanoTime() + BOOT.toNanos();
            while (ProcFs.listeningInodes(port).size() < 4 && System.nanoTime() < deadline) {
                RunningSupervisor.pause(50);
            }
            assertEquals(4, ProcFs.listeningInodes(port).size(), "slot 4's socket, bound by the new supervisor");
        }
    }
}
