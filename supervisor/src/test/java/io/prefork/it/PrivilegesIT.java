package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.unix.Linux;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --user: a root supervisor binds a privileged port; workers run the app as the given user. */
@Timeout(180)
class PrivilegesIT {
    private static final String APP = "io.prefork.it.apps.WhoAmIApp";
    /** JVMs that run as nobody would leave /tmp/hsperfdata_nobody behind (the JVM's per-user directory, in /tmp always). */
    private static final String NO_PERF_DATA = "--jvm-opt=-XX:-UsePerfData";

    @TempDir
    Path dir;

    static boolean isRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.matches("Uid:\\s+0\\s+0\\s+0\\s+0"));
    }

    private static void requireRoot() throws IOException {
        boolean root = isRoot();
        if (!root && "1".equals(System.getenv("PREFORK_CI"))) {
            fail("CI runs as root; these tests need it");
        }
        Assumptions.assumeTrue(root, "needs root");
    }

    private static String classpath() {
        return RunningSupervisor.TEST_APPS + ":" + Jars.EXAMPLES;
    }

    /** A directory every user may enter (the test's own temp dir is root's, 0700): for a cache nobody must read. */
    private Path openDirectory(String name) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return Files.createDirectories(dir.resolve(name));
    }

    private static List<String> status(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status"));
    }

    static void assertNobody(long pid) throws IOException {
        List<String> status = status(pid);
        assertTrue(status.stream().anyMatch(l -> l.matches("Uid:\\s+65534\\s+65534\\s+65534\\s+65534")), status.toString());
        assertTrue(status.stream().anyMatch(l -> l.matches("Gid:\\s+65534\\s+65534\\s+65534\\s+65534")), status.toString());
        assertTrue(status.stream().anyMatch(l -> l.matches("Groups:\\s+65534\\s*")), "supplementary groups: " + status);
    }

    /** The files in {@code cache} named worker-*.jsa (the workers' class archives). */
    private static List<Path> workerArchives(Path cache) throws IOException {
        try (var files = Files.list(cache)) {
            return files.filter(f -> f.getFileName().toString().matches("worker-.*\\.jsa")).toList();
        }
    }

    @Test
    void workersRunAsNobodyOnAPrivilegedPortAndStartFromTheirClassArchive() throws Exception {
        requireRoot();
        int port = freePrivilegedPort();
        Path cache = openDirectory("cache");
        Path config = Files.writeString(dir.resolve("prefork.properties"), "user=nobody\n");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:" + port,
                "--config", config.toString(), "--worker-start", "fast", "--cache-dir", cache.toString(), NO_PERF_DATA)) {
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            for (long pid : workers.values()) {
                assertNobody(pid);
            }
            assertTrue(status(s.pid()).stream().anyMatch(l -> l.matches("Uid:\\s+0\\s+0\\s+0\\s+0")), "the supervisor stays root");
            Http.Response r = Http.get(port, "/");
            assertEquals(200, r.status());
            assertTrue(workers.containsValue(r.workerPid()));
            // The control socket: the workers' group may enter and connect, no one else.
            Path socketDir = Path.of(java.util.Arrays.stream(Files.readString(Path.of("/proc/" + workers.get(1) + "/environ"))
                    .split("\0")).filter(e -> e.startsWith("PREFORK_CONTROL_SOCKET="))
                    .findFirst().orElseThrow().substring("PREFORK_CONTROL_SOCKET=".length())).getParent();
            assertEquals("rwx--x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(socketDir)));
            assertEquals("nogroup", Files.readAttributes(socketDir, PosixFileAttributes.class).group().getName());
            // fast start: the training run, as nobody, wrote the class archive; the check ran as nobody too
            s.awaitLine("class archive ready", Duration.ofSeconds(60));
            Path archive = workerArchives(cache).get(0);
            assertEquals("nobody", Files.getOwner(archive).getName(), "written by the workers' user");
            // Workers started from now on map it, as nobody: the successors of two HUP rolls, under load
            // with every core saturated, as the other zero-loss rolls are (OperateIT), losing nothing.
            Map<Integer, Long> successors = workers;
            try (CpuSaturation busy = CpuSaturation.start(); Load load = Load.start(port, 2, 2, 75)) {
                for (int roll = 0; roll < 2; roll++) {
                    Map<Integer, Long> before = successors;
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(java.util.regex.Pattern.compile("rolling restart done: 2 worker"), roll, Duration.ofSeconds(90));
                    successors = s.awaitReadyWorkers(2, Duration.ofSeconds(90));
                    for (long pid : successors.values()) {
                        assertTrue(!before.containsValue(pid), "a successor after roll " + (roll + 1) + ": " + successors);
                        assertNobody(pid);
                        assertTrue(Files.readString(Path.of("/proc/" + pid + "/maps")).contains(archive.toString()),
                                "worker " + pid + " started from " + archive);
                    }
                }
                load.close();
                System.out.println("2 HUP rolls of nobody's workers under load: " + load.summary());
                assertEquals(List.of(), load.failures(), load.summary());
                assertTrue(load.rate() >= 200, "load was " + load.summary());
            }
            // The control socket is the first user's group's: another user takes a restart, not a HUP.
            Files.writeString(config, "user=daemon\n");
            s.signal(Linux.SIGHUP);
            s.awaitLine("configuration not reloaded, keeping the running one: --user/--group changed to daemon",
                    Duration.ofSeconds(30));
            assertEquals(successors, s.readyWorkers());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
    }

    /**
     * A worker JVM maps its class archive before it runs anything, so a root worker must never map one
     * another user could have written (a cache shared with a --user run, a file handed over): a
     * supervisor deletes an archive that belongs to neither its user nor its workers', and trains its own.
     */
    @Test
    void aSupervisorWithRootWorkersNeverMapsAnArchiveAnotherUserOwns() throws Exception {
        requireRoot();
        Path cache = openDirectory("cache");
        String[] args = {"-w", "1", "-b", "127.0.0.1:0", "--worker-start", "fast", "--cache-dir", cache.toString()};
        try (RunningSupervisor s = RunningSupervisor.start(dir, args)) {
            s.awaitLine("class archive ready", Duration.ofSeconds(60));
        }
        Path archive = workerArchives(cache).get(0);
        Files.setOwner(archive, archive.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        try (RunningSupervisor s = RunningSupervisor.start(dir, args)) {
            s.awaitLine("class archive " + java.util.regex.Pattern.quote(archive.toString()) + " belongs to uid 65534, not to"
                    + " this supervisor's user nor to its workers'; deleting it", Duration.ofSeconds(30));
            long worker = s.awaitReadyWorkers(1, Duration.ofSeconds(60)).get(1);
            assertTrue(!Files.readString(Path.of("/proc/" + worker + "/maps")).contains(archive.toString()),
                    "the root worker started without it");
            s.awaitLine("class archive ready", Duration.ofSeconds(60));
            assertEquals("root", Files.getOwner(archive).getName(), "trained again, by root's own workers");
        }
    }

    /** Nothing in a worker's JVM runs as root: not its start, not a Java agent's premain, which runs before any main. */
    @Test
    void aJavaAgentOfTheWorkersRunsAsTheUser() throws Exception {
        requireRoot();
        Path agent = Jars.whoAmIAgent(openDirectory("agent"));
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--user", "nobody",
                "--cache-dir", openDirectory("cache").toString(), "--app", APP, "--app-classpath", classpath(),
                "--jvm-opt=-javaagent:" + agent, NO_PERF_DATA)) {
            assertNobody(s.awaitReadyWorkers(1, Duration.ofSeconds(60)).get(1));
            s.awaitLine("agent premain runs with Uid: 65534 65534 65534 65534", Duration.ofSeconds(10));
            assertEquals(0, s.count("runs with Uid: 0 "), s.logText());
        }
    }

    /** A worker in another language (PROTOCOL.md) under --user: the user from its start, through the group's socket. */
    @Test
    void aPythonWorkerRunsAsTheUserAndGetsItsListeners() throws Exception {
        requireRoot();
        Path python = Path.of("/usr/bin/python3");  // not a PATH lookup: a root-only shim (pyenv) is no use to nobody
        if (!Files.isExecutable(python)) {
            Tools.missing("/usr/bin/python3 (the Python worker, run as nobody)");
        }
        Path script = Files.copy(RunningSupervisor.HOME.resolve("examples/python/prefork_worker.py"),
                openDirectory("python").resolve("prefork_worker.py"));
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--user", "nobody",
                "--cache-dir", openDirectory("cache").toString(), "--worker-command", python + " " + script)) {
            Map<Integer, Long> workers = s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            for (long pid : workers.values()) {
                assertNobody(pid);
            }
            Http.Response r = Http.get(s.port(), "/");
            assertEquals("Hello from Python\n", r.body());
            assertTrue(workers.containsValue(r.workerPid()), "a worker answered: " + r.workerPid());
        }
    }

    @Test
    void aWorkerThatCannotBecomeTheUserNeverRunsTheApp() throws Exception {
        requireRoot();
        String setpriv = Tools.require("setpriv", "util-linux");
        Path log = dir.resolve("supervisor.log");
        // A supervisor without CAP_SETUID and CAP_SETGID: setpriv cannot take the user's ids, so it never execs the worker.
        List<String> command = new ArrayList<>(List.of(setpriv, "--bounding-set=-setuid,-setgid"));
        command.addAll(RunningSupervisor.command("-w", "1", "-b", "127.0.0.1:0", "--user", "nobody", "--app", APP,
                "--app-classpath", classpath(), "--worker-start", "plain", "--cache-dir", dir.toString()));
        Path tmp = RunningSupervisor.newTmp();
        RunningSupervisor.useTmp(command, tmp);
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try (RunningSupervisor s = RunningSupervisor.adopt(p, log, tmp)) {
            assertEquals(3, s.awaitExit(Duration.ofSeconds(60)), s.logText());
            assertTrue(s.logText().contains("prefork: workers failed to boot 5 times in a row"), s.logText());
            assertEquals(5, s.count("setpriv: \\w+ failed: Operation not permitted"), s.logText());
            assertEquals(0, s.count("app main runs with"), "the app never ran:\n" + s.logText());
        }
    }

    private static int freePrivilegedPort() {
        for (int port = 1023; port > 600; port--) {
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
                return port;
            } catch (IOException taken) {
                // try the next
            }
        }
        return fail("no free port below 1024 on 127.0.0.1");
    }
}
