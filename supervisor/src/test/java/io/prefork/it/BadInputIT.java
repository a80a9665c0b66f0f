package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import jnr.unixsocket.UnixServerSocketChannel;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input table: every user-facing input, wrong, gets exactly one line on stderr and exit 2
 * (usage) or 1 (runtime); never a stack trace, never a worker started. Each row is a real
 * supervisor process.
 */
@Timeout(300)
class BadInputIT {
    private static final int USAGE = 2;
    private static final int RUNTIME = 1;

    @TempDir
    Path dir;

    private record Result(int code, List<String> stderr) {
    }

    /** Runs {@code prefix... java ... Main args...} with {@code env} added; returns its exit code and stderr. */
    private Result run(List<String> prefix, Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(RunningSupervisor.command(args));
        return run(command, env);
    }

    /**
     * Runs it with a java.io.tmpdir of its own, and checks that bad input leaves nothing there (a
     * jffi copy cut short by the exit was once left in /tmp).
     */
    private Result run(List<String> command, Map<String, String> env) throws Exception {
        Path err = Files.createTempFile(dir, "stderr-", ".txt");
        Path tmp = RunningSupervisor.newTmp();
        List<String> withTmp = new ArrayList<>(command);
        if (withTmp.contains("-cp") && withTmp.stream().noneMatch(a -> a.contains("-Djava.io.tmpdir="))) {  // a row's own wins
            RunningSupervisor.useTmp(withTmp, tmp);
        }
        ProcessBuilder pb = new ProcessBuilder(withTmp).directory(dir.toFile())
                .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        List<String> left;
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exits");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.walk(tmp)) {
                left = files.filter(f -> !f.equals(tmp)).map(f -> tmp.relativize(f).toString()).sorted().toList();
            }
            RunningSupervisor.deleteTree(tmp);
        }
        assertEquals(List.of(), left, "files left in the JVM's tmpdir by " + command);
        return new Result(p.exitValue(), Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    private void expect(int code, String line, String... args) throws Exception {
        expect(List.of(), Map.of(), code, line, args);
    }

    private void expect(List<String> prefix, Map<String, String> env, int code, String line, String... args) throws Exception {
        Result r = run(prefix, env, args);
        assertEquals(List.of(line), r.stderr(), "exactly one line, no stack trace");
        assertEquals(code, r.code());
    }

    private void expectCtl(int code, String line, String... args) throws Exception {
        Result r = run(RunningSupervisor.commandFor("io.prefork.supervisor.admin.Ctl", args), Map.of());
        assertEquals(List.of(line), r.stderr(), "exactly one line, no stack trace");
        assertEquals(code, r.code());
    }

    /** This process's effective uid: --user rows differ as root (CI) and as anyone else. */
    private static long effectiveUid() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .map(l -> Long.parseLong(l.split("\\s+")[2])).findFirst().orElseThrow();
    }

    private static DynamicTest row(String name, org.junit.jupiter.api.function.Executable check) {
        return DynamicTest.dynamicTest(name, check);
    }

    @TestFactory
    Stream<DynamicTest> theCommandLine() {
        String longPath = "/tmp/" + "p".repeat(120) + ".sock";
        return Stream.of(
                row("unknown option", () -> expect(USAGE, "prefork: Unrecognized option: --frobnicate (see --help)",
                        "--frobnicate")),
                row("stray argument", () -> expect(USAGE, "prefork: unexpected argument 'serve' (app arguments go after --)",
                        "serve")),
                row("option given twice", () -> expect(USAGE, "prefork: --workers given more than once", "-w", "2", "-w", "3")),
                row("workers out of range", () -> expect(USAGE,
                        "prefork: --workers must be a whole number from 1 to 1024, got '0'", "-w", "0")),
                row("workers not a number", () -> expect(USAGE,
                        "prefork: --workers must be a whole number from 1 to 1024, got 'many'", "-w", "many")),
                row("negative graceful timeout", () -> expect(USAGE,
                        "prefork: --graceful-timeout must be a number of seconds (at most 86400), got '-1'",
                        "--graceful-timeout", "-1")),
                row("zero boot timeout", () -> expect(USAGE,
                        "prefork: --boot-timeout must be a number of seconds above 0 (at most 86400), got '0'",
                        "--boot-timeout", "0")),
                row("boot nice out of range", () -> expect(USAGE,
                        "prefork: --boot-nice must be a whole number from 0 to 19, got '20'", "--boot-nice", "20")),
                row("lame duck not a number", () -> expect(USAGE,
                        "prefork: --lame-duck must be a number of seconds (at most 86400), got 'soon'", "--lame-duck", "soon")),
                row("stall timeout not a number", () -> expect(USAGE,
                        "prefork: --stall-timeout must be a number of seconds (at most 86400), got '1s'", "--stall-timeout", "1s")),
                row("negative max restarts", () -> expect(USAGE,
                        "prefork: --max-restarts must be a whole number from 0 to 100000, got '-1'", "--max-restarts", "-1")),
                row("bad balance", () -> expect(USAGE, "prefork: --balance must be shared or reuseport, got 'rr'",
                        "--balance", "rr")),
                row("bad ready mode", () -> expect(USAGE, "prefork: --ready must be auto or app, got 'soon'", "--ready", "soon")),
                row("bad worker start", () -> expect(USAGE, "prefork: --worker-start must be fast, trained or plain, got 'warp'",
                        "--worker-start", "warp")),
                row("bad warmup requests", () -> expect(USAGE,
                        "prefork: --warmup-requests must be a whole number from 0 to 100000, got 'lots'",
                        "--warmup-requests", "lots")),
                row("bad spare delay", () -> expect(USAGE,
                        "prefork: --spare-delay must be a number of seconds (at most 86400), got 'soon'", "--spare-delay", "soon")),
                row("bad training requests", () -> expect(USAGE,
                        "prefork: --training-requests must be a whole number from 0 to 100000, got '-1'",
                        "--training-requests", "-1")),
                row("bad warmup path", () -> expect(USAGE, "prefork: --warmup-path must be a path starting with /, with no"
                        + " spaces, got 'index.html'", "--warmup-path", "index.html")),
                row("bad jvm share", () -> expect(USAGE, "prefork: --jvm-share must be auto or off, got 'half'",
                        "--jvm-share", "half")),
                row("address without a port", () -> expect(USAGE,
                        "prefork: bad address 'nonsense': expected HOST:PORT, [IPV6]:PORT or unix:PATH", "-b", "nonsense")),
                row("port out of range", () -> expect(USAGE,
                        "prefork: bad address '127.0.0.1:70000': the port must be a number from 0 to 65535", "-b", "127.0.0.1:70000")),
                row("IPv4 in brackets", () -> expect(USAGE,
                        "prefork: bad address '[127.0.0.1]:80': only IPv6 addresses go in brackets", "-b", "[127.0.0.1]:80")),
                row("IPv6 without brackets", () -> expect(USAGE,
                        "prefork: bad address '::1:80': put an IPv6 address in brackets, like [::1]:8080", "-b", "::1:80")),
                row("empty unix path", () -> expect(USAGE, "prefork: bad address 'unix:': the unix socket path is empty",
                        "-b", "unix:")),
                row("unix path too long", () -> expect(USAGE, "prefork: bad address 'unix:" + longPath
                        + "': a unix socket path can have at most 107 bytes", "-b", "unix:" + longPath)),
                row("non-ASCII unix path", () -> expect(USAGE, "prefork: bad address 'unix:/tmp/caf\u00e9.sock': unix socket path"
                        + " must be ASCII (jnr-unixsocket miscounts a non-ASCII path's length): /tmp/caf\u00e9.sock",
                        "-b", "unix:/tmp/caf\u00e9.sock")),
                row("non-ASCII admin socket", () -> expect(USAGE, "prefork: --ctl-socket: unix socket path must be ASCII"
                        + " (jnr-unixsocket miscounts a non-ASCII path's length): /tmp/\u00fcber.ctl",
                        "-b", "127.0.0.1:0", "--ctl-socket", "/tmp/\u00fcber.ctl")),
                row("non-ASCII ctl --socket", () -> expectCtl(USAGE, "prefork ctl: --socket: unix socket path must be ASCII"
                        + " (jnr-unixsocket miscounts a non-ASCII path's length): /tmp/\u00fcber.ctl",
                        "--socket", "/tmp/\u00fcber.ctl", "status")),
                row("abstract admin socket", () -> expect(USAGE,
                        "prefork: --admin-bind unix:@x: use a unix socket path, not an abstract name", "--admin-bind", "unix:@x")),
                row("unknown user", () -> expect(USAGE, "prefork: --user no-such-user-x: no such user", "--user", "no-such-user-x",
                        "--cache-dir", dir.toString())),
                row("--user with no setpriv on the PATH", () -> {
                    long uid = effectiveUid();
                    if (uid == 0) {
                        expect(List.of(), Map.of("PATH", dir.toString()), USAGE, "prefork: --user/--group start workers"
                                + " through setpriv (util-linux), which is not on the PATH", "--user", "nobody",
                                "--cache-dir", dir.toString());
                    } else {
                        expect(USAGE, "prefork: --user/--group need the supervisor to start as root (it runs as uid " + uid + ")",
                                "--user", "nobody", "--cache-dir", dir.toString());
                    }
                }),
                row("--user that cannot read the app classpath", () -> {
                    Path jar = Files.copy(Jars.EXAMPLES, dir.resolve("app.jar"));  // in the test's directory: 0700
                    long uid = effectiveUid();
                    expect(USAGE, uid == 0 ? "prefork: --user nobody (uid 65534, gid 65534) cannot read " + jar
                            + ": the workers run as that user"
                            : "prefork: --user/--group need the supervisor to start as root (it runs as uid " + uid + ")",
                            "--user", "nobody", "--app-classpath", jar.toString(), "--cache-dir", dir.toString());
                }),
                row("unknown group", () -> expect(USAGE, "prefork: --group no-such-group-x: no such group",
                        "--group", "no-such-group-x", "--cache-dir", dir.toString())),
                row("unknown admin group", () -> expect(USAGE, "prefork: --admin-group no-such-group-x: no such group",
                        "--admin-group", "no-such-group-x")),
                row("app class that does not exist", () -> expect(USAGE, "prefork: --app com.example.Missing: no such class"
                        + " on the app classpath (" + Jars.EXAMPLES + ")", "--app", "com.example.Missing")),
                row("app classpath that does not exist", () -> expect(USAGE,
                        "prefork: --app-classpath entry /no/such/app.jar does not exist", "--app-classpath", "/no/such/app.jar")),
                row("app jar that does not exist", () -> expect(USAGE, "prefork: --app-jar /no/such/app.jar: no such file",
                        "--app-jar", "/no/such/app.jar")),
                row("app jar with no Main-Class", () -> expect(USAGE, "prefork: --app-jar " + Jars.EXAMPLES
                        + ": its manifest names no Main-Class; use --app-classpath and --app", "--app-jar", Jars.EXAMPLES.toString())),
                row("app jar that is no jar", () -> {
                    Path notAJar = Files.writeString(dir.resolve("not-a.jar"), "text\n");
                    expect(USAGE, "prefork: --app-jar " + notAJar + ": not a readable jar (zip END header not found)",
                            "--app-jar", notAJar.toString());
                }),
                row("app jar and app classpath", () -> expect(USAGE,
                        "prefork: --app-jar and --app-classpath exclude each other: the jar is the classpath",
                        "--app-jar", Jars.EXAMPLES.toString(), "--app-classpath", Jars.EXAMPLES.toString())),
                row("java that does not exist", () -> expect(USAGE, "prefork: --java /no/such/java: not an executable file",
                        "--java", "/no/such/java")),
                row("worker command that does not exist", () -> expect(USAGE,
                        "prefork: --worker-command: no-such-program is not an executable program",
                        "--worker-command", "no-such-program --flag")));
    }

    @TestFactory
    Stream<DynamicTest> theConfigFile() {
        return Stream.of(
                row("missing file", () -> expect(USAGE, "prefork: cannot read config file " + dir.resolve("none.properties")
                        + ": No such file or directory", "--config", dir.resolve("none.properties").toString())),
                row("a directory", () -> expect(USAGE, "prefork: cannot read config file " + dir + ": Is a directory",
                        "--config", dir.toString())),
                row("unknown key", () -> {
                    Path f = Files.writeString(dir.resolve("unknown.properties"), "wokers=2\n");
                    expect(USAGE, "prefork: config file " + f + ": unknown key 'wokers'", "--config", f.toString());
                }),
                row("duplicate key", () -> {
                    Path f = Files.writeString(dir.resolve("twice.properties"), "workers=2\nworkers=4\n");
                    expect(USAGE, "prefork: config file " + f + ": key 'workers' given more than once", "--config", f.toString());
                }),
                row("bad number", () -> {
                    Path f = Files.writeString(dir.resolve("number.properties"), "workers=lots\n");
                    expect(USAGE, "prefork: --workers must be a whole number from 1 to 1024, got 'lots'", "--config", f.toString());
                }),
                row("bad address", () -> {
                    Path f = Files.writeString(dir.resolve("bind.properties"), "bind=127.0.0.1:8080,nonsense\n");
                    expect(USAGE, "prefork: bad address 'nonsense': expected HOST:PORT, [IPV6]:PORT or unix:PATH",
                            "--config", f.toString());
                }));
    }

    @TestFactory
    Stream<DynamicTest> theRuntime() {
        return Stream.of(
                row("port in use", () -> {
                    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                        int port = taken.getLocalPort();
                        expect(RUNTIME, "prefork: cannot listen on 127.0.0.1:" + port + ": Address already in use",
                                "-w", "1", "-b", "127.0.0.1:" + port);
                    }
                }),
                row("privileged port without the capability", () -> {
                    String setpriv = Tools.require("setpriv", "util-linux");
                    int port = 1000;  // below net.ipv4.ip_unprivileged_port_start (1024 unless lowered)
                    expect(List.of(setpriv, "--bounding-set=-net_bind_service", "--inh-caps=-net_bind_service"), Map.of(),
                            RUNTIME, "prefork: cannot listen on 127.0.0.1:" + port
                                    + ": Permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)",
                            "-w", "1", "-b", "127.0.0.1:" + port);
                }),
                row("admin port in use", () -> {
                    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                        int port = taken.getLocalPort();
                        expect(RUNTIME, "prefork: cannot serve --admin-bind 127.0.0.1:" + port + ": Address already in use",
                                "-w", "1", "-b", "127.0.0.1:0", "--admin-bind", "127.0.0.1:" + port);
                    }
                }),
                row("temporary directory missing", () -> {
                    // TMPDIR as scripts/prefork passes it: the control socket's directory cannot be made. The
                    // start-up's log lines come first; the last says why, and no stack trace.
                    Result r = run(List.of("bash", "-c", "exec \"$1\" -Djava.io.tmpdir=/nonexistent \"${@:2}\"", "bash"),
                            Map.of(), "-w", "1", "-b", "127.0.0.1:0");
                    assertEquals("prefork: cannot create a directory for control.sock in /nonexistent (TMPDIR): No such file"
                            + " or directory", r.stderr().get(r.stderr().size() - 1), String.join("\n", r.stderr()));
                    assertTrue(r.stderr().stream().noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception")), r.stderr().toString());
                    assertEquals(RUNTIME, r.code());
                }),
                row("unwritable pid file", () -> {
                    Path pid = Files.createFile(dir.resolve("plain-file")).resolve("prefork.pid");
                    expect(RUNTIME, "prefork: cannot write pid file " + pid + ": Not a directory",
                            "-w", "1", "-b", "127.0.0.1:0", "--pid", pid.toString());
                }),
                row("pid file of a live process", () -> {
                    long live = ProcessHandle.current().pid();
                    Path pid = Files.writeString(dir.resolve("taken.pid"), live + "\n");
                    expect(RUNTIME, "prefork: pid file " + pid + " holds pid " + live
                                    + ", which is running (another prefork? if not, remove the file)",
                            "-w", "1", "-b", "127.0.0.1:0", "--pid", pid.toString());
                    assertEquals(live + "\n", Files.readString(pid), "left as it was");
                }),
                row("unix path a live server holds", () -> {
                    Path sock = dir.resolve("live.sock");
                    try (UnixServerSocketChannel live = UnixSockets.listen(sock.toString(), 1)) {
                        expect(RUNTIME, "prefork: cannot listen on unix:" + sock + ": unix:" + sock
                                + " is in use by a running server", "-w", "1", "-b", "unix:" + sock);
                        assertTrue(Files.exists(sock));
                    }
                }),
                row("unix path that is not a socket", () -> {
                    Path file = Files.writeString(dir.resolve("regular.txt"), "keep me");
                    expect(RUNTIME, "prefork: cannot listen on unix:" + file + ": unix:" + file
                            + " exists and is not a socket; not touching it", "-w", "1", "-b", "unix:" + file);
                    assertEquals("keep me", Files.readString(file));
                }),
                row("admin socket in a missing directory", () -> {
                    Path ctl = dir.resolve("no-such-dir/prefork.ctl");
                    expect(RUNTIME, "prefork: cannot create the admin socket " + ctl + ": No such file or directory",
                            "-w", "1", "-b", "127.0.0.1:0", "--ctl-socket", ctl.toString());
                }),
                row("log file in a missing directory", () -> {
                    Path log = dir.resolve("no-such-dir/prefork.log");
                    expect(RUNTIME, "prefork: cannot open log file " + log + ": No such file or directory",
                            "-w", "1", "-b", "127.0.0.1:0", "--log-file", log.toString());
                }),
                row("LISTEN_FDS naming something that is not a socket", () -> {
                    Path notASocket = Files.writeString(dir.resolve("not-a-socket"), "");
                    // bash sets LISTEN_PID to its own pid, which exec keeps, and opens fd 3 on a plain file.
                    expect(List.of("bash", "-c", "export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$@\" 3<" + notASocket, "bash"),
                            Map.of(), RUNTIME, "prefork: LISTEN_FDS: fd 3: Socket operation on non-socket",
                            "-w", "1", "-b", "127.0.0.1:0");
                }));
    }

    @Test
    void aStaleUnixSocketIsReplacedAndThePidFileComesAndGoes() throws Exception {
        Path sock = dir.resolve("stale.sock");
        UnixSockets.listen(sock.toString(), 1).close(); // the file stays behind, with nobody listening: a crashed server's leftover
        assertTrue(Files.exists(sock));
        Path pid = dir.resolve("prefork.pid");
        Files.writeString(pid, "999999999\n");  // and a stale pid file: no such process
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "unix:" + sock, "--pid", pid.toString())) {
            s.awaitReadyWorkers(1, Duration.ofSeconds(60));
            assertEquals(s.pid() + "\n", Files.readString(pid));
            assertEquals("Hello, world!\n", Http.get(Http.unix(sock), "/", Duration.ofSeconds(20)).body());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
        assertFalse(Files.exists(pid), "the pid file is removed on exit");
    }
}
