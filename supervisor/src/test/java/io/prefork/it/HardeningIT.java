package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.ControlSocket;
import io.prefork.protocol.MessageType;
import io.prefork.unix.FdPassing;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Who may talk to the supervisor, and what garbage on its sockets cannot do. */
@Timeout(180)
class HardeningIT {
    @TempDir
    Path dir;

    /** A worker's environment, as the supervisor gave it (the test runs as root, so it can read it). */
    private static Map<String, String> environment(long pid) throws IOException {
        Map<String, String> env = new java.util.HashMap<>();
        for (String entry : Files.readString(Path.of("/proc/" + pid + "/environ")).split("\0")) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return env;
    }

    @Test
    void aProcessTheSupervisorDidNotStartGetsNothingEvenWithAStolenToken() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0")) {
            int port = s.port();
            long worker = s.awaitReadyWorkers(1, Duration.ofSeconds(60)).get(1);
            Map<String, String> env = environment(worker);
            String socket = env.get("PREFORK_CONTROL_SOCKET");
            for (String token : List.of(env.get("PREFORK_TOKEN"), "not-a-token")) {
                ControlSocket impostor = ControlSocket.connect(socket, FdPassing.INSTANCE);
                try {
                    impostor.send(new ControlMessage(MessageType.HELLO, List.of(token)));
                    ControlMessage answer;
                    try {
                        answer = impostor.receive();
                    } catch (IOException reset) {
                        answer = null;  // it closed without reading our HELLO: a reset
                    }
                    assertNull(answer, "the supervisor closed without a word");
                    assertEquals(List.of(), impostor.takeReceivedFds(), "and without an fd");
                } catch (IOException refusedBeforeWeSent) {
                    // also a refusal: the connection was closed before HELLO went out
                } finally {
                    impostor.close();
                }
            }
            long me = ProcessHandle.current().pid();
            s.awaitMatch(java.util.regex.Pattern.compile("control: refused a connection from pid " + me + " \\(uid 0\\)"),
                    1, Duration.ofSeconds(5));
            assertEquals(Map.of(1, worker), s.readyWorkers(), "the worker is untouched");
            assertEquals(0, s.count("\\(pid " + worker + "\\): READY -> "), "no transition after READY:\n" + s.logText());
            assertEquals(200, Http.get(port, "/").status());
            assertTrue(!s.logText().contains(env.get("PREFORK_TOKEN")), "tokens are never logged");
        }
    }

    @Test
    void aWorkerWithAWrongOrReplayedTokenGetsNothing() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--app", "io.prefork.it.apps.ImpostorApp",
                "--app-classpath", RunningSupervisor.TEST_APPS + ":" + Jars.EXAMPLES)) {
            int port = s.port();
            long worker = s.awaitReadyWorkers(1, Duration.ofSeconds(60)).get(1);
            s.awaitLine("impostor: wrong token -> closed, no fds; replayed token -> closed, no fds", Duration.ofSeconds(10));
            assertEquals(2, s.count("control: refused a connection from pid " + worker + " \\(uid 0\\)"), s.logText());
            assertEquals(Map.of(1, worker), s.readyWorkers());
            assertEquals(200, Http.get(port, "/").status());
        }
    }

    @Test
    void theAdminGroupMayReadButNotControl() throws Exception {
        String setpriv = Tools.require("setpriv", "util-linux");
        // The socket's directory must be one that user can enter (the test's own temp dir is 0700).
        Path open = Files.createTempDirectory(Path.of("/tmp"), "prefork-admin-group-",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
        Path ctl = open.resolve("prefork.ctl");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--ctl-socket", ctl.toString(), "--admin-group", "nogroup")) {
            s.awaitReadyWorkers(1, Duration.ofSeconds(60));
            assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(ctl)));
            assertEquals("nogroup", Files.readAttributes(ctl, java.nio.file.attribute.PosixFileAttributes.class)
                    .group().getName());
            // nobody, with nogroup as its only group: a member of the admin group, not the supervisor's user
            List<String> asNobody = List.of(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups");
            RunningSupervisor.CtlResult status = ctlAs(asNobody, ctl, "status");
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("READY"), status.out());
            RunningSupervisor.CtlResult stop = ctlAs(asNobody, ctl, "stop");
            assertEquals(1, stop.code());
            assertEquals("prefork ctl: 'stop' needs the supervisor's user; the admin group may run: status, metrics\n",
                    stop.err());
            assertTrue(s.process.isAlive(), "still running");
            RunningSupervisor.CtlResult other = ctlAs(List.of(setpriv, "--reuid=65534", "--regid=1", "--clear-groups"),
                    ctl, "status");
            assertTrue(other.code() != 0, "outside the group: no access at all; " + other.err());
        } finally {
            Files.deleteIfExists(ctl);
            Files.deleteIfExists(open);
        }
    }

    private RunningSupervisor.CtlResult ctlAs(List<String> prefix, Path socket, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        List<String> all = new ArrayList<>(List.of("--socket", socket.toString()));
        all.addAll(List.of(args));
        command.addAll(RunningSupervisor.commandFor("io.prefork.supervisor.admin.Ctl", all.toArray(String[]::new)));
        // No perf data: a JVM of another user would leave that user's /tmp/hsperfdata_<user> behind.
        command.add(prefix.size() + 1, "-XX:-UsePerfData");
        Path out = Files.createTempFile(dir, "ctl-", ".out");
        Path err = Files.createTempFile(dir, "ctl-", ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "ctl finished");
        return new RunningSupervisor.CtlResult(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void garbageOnTheControlAndAdminSocketsDoesNotDisturbService() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            int port = s.port();
            long worker = s.awaitReadyWorkers(2, Duration.ofSeconds(60)).get(1);
            Path control = Path.of(environment(worker).get("PREFORK_CONTROL_SOCKET"));
            Path admin = dir.resolve("prefork.ctl");
            List<SocketChannel> idle = new ArrayList<>();
            try (Load load = Load.start(port, 2, 2, 40)) {
                for (Path socket : List.of(control, admin)) {
                    sendAndClose(socket, randomBytes(1 << 20));
                    assertStatusWithinOneSecond(admin, "after 1 MiB of random bytes on " + socket.getFileName());
                    sendHugeLine(socket, 100 << 20);
                    assertStatusWithinOneSecond(admin, "after a 100 MB line on " + socket.getFileName());
                    for (int i = 0; i < 1000; i++) {
                        idle.add(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
                    }
                    assertStatusWithinOneSecond(admin, "with 1,000 idle connections on " + socket.getFileName());
                }
                RunningSupervisor.pause(2000);  // the idle connections stay open while traffic goes on
                assertStatusWithinOneSecond(admin, "2 s later, with 2,000 idle connections held");
                RunningSupervisor.CtlResult ctl = RunningSupervisor.ctl(dir, "status");
                assertEquals(0, ctl.code(), ctl.err());
                assertEquals(List.of(), load.failures(), "requests failed: " + load.summary());
                assertTrue(load.ok() > 100, load.summary());
            } finally {
                for (SocketChannel c : idle) {
                    c.close();
                }
            }
            assertEquals(2, s.readyWorkers().size(), "both workers still READY");
        }
    }

    /**
     * jnr-unixsocket makes its sockets without SOCK_CLOEXEC; prefork sets FD_CLOEXEC on each, so no
     * program the supervisor execs inherits them, and no worker holds the supervisor's own. (The
     * worker's side is shown in UnixSocketsTest: every JVM on this machine also holds a unix socket
     * from its own start, without FD_CLOEXEC, which is not prefork's, so only the supervisor's named
     * sockets are checked here.)
     */
    @Test
    void noWorkerHoldsTheSupervisorsUnixSocketsAndEachIsCloseOnExec() throws Exception {
        Path adminHttp = dir.resolve("admin-http.sock");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--admin-bind", "unix:" + adminHttp)) {
            long worker = s.awaitReadyWorkers(1, Duration.ofSeconds(60)).get(1);
            Path control = Path.of(environment(worker).get("PREFORK_CONTROL_SOCKET"));
            Map<Long, String> named = namedUnixSockets();
            Map<Integer, Long> supervisorFds = unixSocketFds(s.pid(), named.keySet());
            List<String> paths = supervisorFds.values().stream().map(named::get).toList();
            for (Path expected : List.of(control, dir.resolve("prefork.ctl"), adminHttp)) {
                assertTrue(paths.stream().anyMatch(p -> p.startsWith(expected.toString())),
                        "the supervisor listens on " + expected + "; its named unix sockets: " + paths);
            }
            for (Map.Entry<Integer, Long> fd : supervisorFds.entrySet()) {
                assertTrue(closeOnExec(s.pid(), fd.getKey()), "supervisor fd " + fd.getKey() + " ("
                        + named.get(fd.getValue()) + ") is close-on-exec");
            }
            Map<Integer, Long> workerFds = unixSocketFds(worker, null);
            assertFalse(workerFds.isEmpty(), "the worker's control connection is a unix socket");
            for (Map.Entry<Integer, Long> fd : workerFds.entrySet()) {
                assertFalse(supervisorFds.containsValue(fd.getValue()), "worker fd " + fd.getKey()
                        + " is the supervisor's " + named.get(fd.getValue()));
            }
        }
    }

    /** Inode → path of every Unix socket on the machine that has a path or an abstract name. */
    private static Map<Long, String> namedUnixSockets() throws IOException {
        Map<Long, String> named = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[6].matches("\\d+")) {
                named.put(Long.parseLong(f[6]), f[7]);
            }
        }
        return named;
    }

    /** fd → inode of the process's Unix sockets (all of them, or only those in {@code among}). */
    private static Map<Integer, Long> unixSocketFds(long pid, java.util.Set<Long> among) throws IOException {
        java.util.Set<Long> unix = new java.util.HashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 7 && f[6].matches("\\d+")) {
                unix.add(Long.parseLong(f[6]));
            }
        }
        Map<Integer, Long> fds = new java.util.TreeMap<>();
        try (var entries = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : entries.toList()) {
                String link;
                try {
                    link = Files.readSymbolicLink(fd).toString();
                } catch (IOException closed) {
                    continue;
                }
                int n = Integer.parseInt(fd.getFileName().toString());
                if (n > 2 && link.startsWith("socket:[")) {
                    long inode = Long.parseLong(link.substring(8, link.length() - 1));
                    if (unix.contains(inode) && (among == null || among.contains(inode))) {
                        fds.put(n, inode);
                    }
                }
            }
        }
        return fds;
    }

    private static boolean closeOnExec(long pid, int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return (Integer.parseInt(line.substring(6).trim(), 8) & 02000000) != 0;
            }
        }
        throw new IOException("no flags in /proc/" + pid + "/fdinfo/" + fd);
    }

    /** Connects to the admin socket itself and times `status`: the supervisor's answer, not a JVM start. */
    private static void assertStatusWithinOneSecond(Path admin, String when) throws IOException {
        long start = System.nanoTime();
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(admin))) {
            c.write(ByteBuffer.wrap("status\n".getBytes(StandardCharsets.US_ASCII)));
            String reply = readAll(c);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(reply.endsWith("OK\n"), when + ": " + reply);
            assertTrue(ms < 1000, when + ": status took " + ms + " ms");
        }
    }

    private static String readAll(SocketChannel c) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        while (c.read(buf) >= 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    /** Writes until done or until the server hangs up (which it should, long before). */
    private static void sendAndClose(Path socket, byte[] data) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                c.write(buf);
            }
        } catch (IOException hungUp) {
            // expected: the supervisor closes on garbage
        }
    }

    private static void sendHugeLine(Path socket, int bytes) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            java.util.Arrays.fill(chunk.array(), (byte) 'x');
            for (int sent = 0; sent < bytes; sent += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) {
                    c.write(chunk);
                }
            }
        } catch (IOException hungUp) {
            // expected: past its limit the supervisor hangs up
        }
    }
}
