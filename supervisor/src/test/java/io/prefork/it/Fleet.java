package io.prefork.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fleet on one machine, with real network isolation (FleetIT): each host a network namespace with a
 * veth pair to the balancer's namespace, running its own prefork supervisor (started by a script, as
 * an operator's service manager would); HAProxy with scripts/haproxy/haproxy.cfg as shipped; and the
 * client, {@link FleetClient}, in the balancer's namespace. close() ends every process in the
 * namespaces by pid (what `ip netns pids` lists) and deletes the namespaces, which takes the veths.
 */
final class Fleet implements AutoCloseable {
    static final Duration BOOT = Duration.ofSeconds(90);
    static final int APP_PORT = 8080;
    static final int ADMIN_PORT = 9090;
    static final int FRONT_PORT = 8000;
    /** Short, and unique per test JVM: interface names have at most 15 characters. */
    static final String PREFIX = "pf" + ProcessHandle.current().pid() % 100_000;

    /** One host: its namespace, its address on the veth to the balancer, and its directory. */
    record Host(String ns, String address, Path home) {
        Path jar() {
            return home.resolve("app.jar");
        }

        String log() {
            try {
                return Files.readString(home.resolve("log"));
            } catch (IOException e) {
                return "";
            }
        }

        long supervisorPid() throws IOException {
            return Long.parseLong(Files.readString(home.resolve("pid")).trim());
        }
    }

    final Path dir;
    final String lb = PREFIX + "-lb";
    final List<Host> hosts = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();
    private Process haproxy;
    private Process client;
    private BufferedReader clientOut;

    private Fleet(Path dir) {
        this.dir = dir;
    }

    /** Three hosts serving {@code jar}, each with `hello.conf` in its directory unless {@code withoutConf} names it. */
    static Fleet start(Path dir, Path jar, Set<Integer> withoutConf) throws Exception {
        Fleet f = new Fleet(dir);
        try {
            f.network(3);
            for (Host h : f.hosts) {
                Files.createDirectories(h.home());
                Files.copy(jar, h.jar());
                if (!withoutConf.contains(f.hosts.indexOf(h) + 1)) {
                    Files.writeString(h.home().resolve("hello.conf"), "ok\n");
                }
                f.writeScripts(h);
                sh(h.home().resolve("start").toString());
            }
            for (Host h : f.hosts) {
                f.awaitReady(h);
            }
            f.startHaproxy();
            return f;
        } catch (Throwable t) {
            f.printLogs();
            f.close();
            throw t;
        }
    }

    private void network(int n) throws IOException {
        namespace(lb);
        for (int i = 1; i <= n; i++) {
            String ns = PREFIX + "-h" + i;
            namespace(ns);
            String outer = PREFIX + "h" + i + "a";
            String inner = PREFIX + "h" + i + "b";
            sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner);
            sh("ip", "link", "set", outer, "netns", lb);
            sh("ip", "link", "set", inner, "netns", ns);
            sh("ip", "-n", lb, "addr", "add", "10.213." + i + ".1/24", "dev", outer);
            sh("ip", "-n", ns, "addr", "add", "10.213." + i + ".2/24", "dev", inner);
            sh("ip", "-n", lb, "link", "set", outer, "up");
            sh("ip", "-n", ns, "link", "set", inner, "up");
            hosts.add(new Host(ns, "10.213." + i + ".2", dir.resolve(ns)));
        }
    }

    private void namespace(String ns) throws IOException {
        sh("ip", "netns", "add", ns);
        namespaces.add(ns);
        sh("ip", "-n", ns, "link", "set", "lo", "up");
    }

    /**
     * start: the supervisor in the host's namespace, detached, as a service manager would start it;
     * restart: TERM (with --lame-duck, /readyz says 503 first), wait for it to exit, start again.
     */
    private void writeScripts(Host h) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("setsid", "ip", "netns", "exec", h.ns()));
        List<String> supervisor = RunningSupervisor.command("-w", "2", "-b", h.address() + ":" + APP_PORT,
                "--admin-bind", "0.0.0.0:" + ADMIN_PORT, "--lame-duck", "2", "--graceful-timeout", "10",
                "--pid", h.home().resolve("pid").toString(), "--ctl-socket", h.home().resolve("prefork.ctl").toString(),
                "--app-jar", h.jar().toString(), "--worker-start", "plain");
        // Its control socket's directory in the test's own: the kill -9 and the teardown leave the
        // supervisor no chance to remove it, and the test's directory goes with the test.
        Path tmp = Files.createDirectories(h.home().resolve("tmp"));
        supervisor.add(1, "-Djava.io.tmpdir=" + tmp);
        cmd.addAll(supervisor);
        String home = h.home().toString();
        script(h.home().resolve("start"), "cd '" + home + "' || exit 1\nrm -f pid\n"
                + String.join(" ", cmd.stream().map(a -> "'" + a + "'").toList())
                + " >> log 2>&1 < /dev/null &\nchild=$!\n"
                + "for i in $(seq 300); do [ -s pid ] && exit 0; kill -0 $child 2>/dev/null || break; sleep 0.1; done\n"
                + "echo \"the supervisor did not write its pid file (its log: $PWD/log)\" >&2; exit 1\n");
        // Gone: no such process, or a zombie its new parent has not reaped yet.
        script(h.home().resolve("restart"), "cd '" + home + "' || exit 1\npid=$(cat pid)\nkill -TERM \"$pid\"\n"
                + "gone() { [ ! -e /proc/$pid ] || grep -q '^State:[[:space:]]*Z' /proc/$pid/status 2>/dev/null; }\n"
                + "for i in $(seq 600); do gone && exec ./start; sleep 0.1; done\n"
                + "echo \"supervisor $pid still running 60 s after TERM\" >&2; exit 1\n");
    }

    private static void script(Path file, String body) throws IOException {
        Files.writeString(file, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** /readyz of the host answers 200 (asked inside its namespace). */
    void awaitReady(Host h) throws Exception {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (run("ip", "netns", "exec", h.ns(), "curl", "-fsS", "-o", "/dev/null", "--max-time", "2",
                "http://127.0.0.1:" + ADMIN_PORT + "/readyz").exit() != 0) {
            if (System.nanoTime() > deadline) {
                fail(h.ns() + " not ready within " + BOOT + ":\n" + h.log());
            }
            RunningSupervisor.pause(100);
        }
    }

    /** What host {@code i} (1-based) answers on / (asked from the balancer's namespace). */
    String body(int i) throws IOException {
        return run("ip", "netns", "exec", lb, "curl", "-sS", "--max-time", "5",
                "http://" + hosts.get(i - 1).address() + ":" + APP_PORT + "/").out().trim();
    }

    private void startHaproxy() throws Exception {
        Path cfg = RunningSupervisor.HOME.resolve("scripts/haproxy/haproxy.cfg");
        ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", lb, Tools.require("haproxy", "the balancer"),
                "-db", "-f", cfg.toString());
        Map<String, String> env = pb.environment();
        env.put("PREFORK_FRONT", "127.0.0.1:" + FRONT_PORT);
        for (int i = 1; i <= hosts.size(); i++) {
            env.put("PREFORK_HOST" + i, hosts.get(i - 1).address() + ":" + APP_PORT);
        }
        env.put("PREFORK_ADMIN_PORT", Integer.toString(ADMIN_PORT));
        haproxy = pb.redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        // In rotation: every host has answered through the balancer (each host's workers' pids).
        Set<String> seen = new TreeSet<>();
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (seen.size() < hosts.size()) {
            Result r = run("ip", "netns", "exec", lb, "curl", "-sS", "-D", "-", "-o", "/dev/null", "--max-time", "2",
                    "http://127.0.0.1:" + FRONT_PORT + "/");
            Matcher m = Pattern.compile("(?i)x-worker-pid: (\\d+)").matcher(r.out());
            if (m.find()) {
                for (Host h : hosts) {
                    if (h.log().contains("(pid " + m.group(1) + "): BOOTING -> READY")) {
                        seen.add(h.ns());
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                fail("HAProxy did not send to every host within " + BOOT + "; answered: " + seen + "\n" + haproxyLog());
            }
        }
    }

    String haproxyLog() {
        try {
            return Files.readString(dir.resolve("haproxy.log"));
        } catch (IOException e) {
            return "";
        }
    }

    /** Starts the client: {@code threads} keep-alive and as many new-connection threads, each at {@code rps}. */
    void startClient(int threads, int rps) throws IOException {
        // The test JVM's own classpath: the client is Load, from the test classes.
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", lb,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), FleetClient.class.getName(),
                Integer.toString(FRONT_PORT), Integer.toString(threads), Integer.toString(rps)));
        client = new ProcessBuilder(cmd).redirectError(dir.resolve("client.err").toFile()).start();
        clientOut = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
        String first = clientOut.readLine();
        if (!"STARTED".equals(first)) {
            fail("the client did not start: " + first + "\n" + Files.readString(dir.resolve("client.err")));
        }
    }

    /** The client's report so far (stop: and it ends): ok, failures, rate. */
    record Report(long ok, List<String> failures, double rate) {
    }

    Report report(boolean stop) throws Exception {
        OutputStream in = client.getOutputStream();
        if (stop) {
            in.close();
        } else {
            in.write("report\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
        }
        long ok = -1;
        double rate = 0;
        List<String> failures = new ArrayList<>();
        for (String line = clientOut.readLine(); line != null && !line.equals("END"); line = clientOut.readLine()) {
            if (line.startsWith("OK ")) {
                ok = Long.parseLong(line.substring(3));
            } else if (line.startsWith("FAILURE ")) {
                failures.add(line.substring(8));
            } else if (line.startsWith("RATE ")) {
                rate = Double.parseDouble(line.substring(5));
            }
        }
        if (stop && !client.waitFor(30, TimeUnit.SECONDS)) {
            fail("the client did not end");
        }
        return new Report(ok, failures, rate);
    }

    /** scripts/fleet-deploy with the namespaces as hosts; returns its exit code and output. */
    Result deploy(Path jar, String... options) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(RunningSupervisor.HOME.resolve("scripts/fleet-deploy").toString(),
                "--jar", jar.toString(), "--run", "ip netns exec {host}", "--copy", "cp {file} {path}",
                "--app-path", dir + "/{host}/app.jar", "--prefork", RunningSupervisor.HOME.resolve("scripts/prefork").toString(),
                "--ctl-socket", dir + "/{host}/prefork.ctl", "--timeout", "120"));
        cmd.addAll(List.of(options));
        for (Host h : hosts) {
            cmd.add(h.ns());
        }
        return run(cmd.toArray(String[]::new));
    }

    void printLogs() {
        for (Host h : hosts) {
            System.out.println("===== " + h.ns() + " (" + h.address() + "): its supervisor's log =====\n" + h.log());
        }
        System.out.println("===== HAProxy =====\n" + haproxyLog());
    }

    /** Every process in the namespaces, by pid; then the namespaces, and with them the veths. */
    @Override
    public void close() throws Exception {
        if (client != null) {
            client.destroyForcibly();
        }
        if (haproxy != null) {
            haproxy.destroyForcibly();
        }
        for (int round = 0; round < 50; round++) {
            List<String> pids = new ArrayList<>();
            for (String ns : namespaces) {
                pids.addAll(run("ip", "netns", "pids", ns).out().lines().filter(l -> !l.isBlank()).toList());
            }
            if (pids.isEmpty()) {
                break;
            }
            for (String pid : pids) {
                run("kill", "-9", pid.trim());
            }
            RunningSupervisor.pause(100);
        }
        for (String ns : namespaces) {
            run("ip", "netns", "del", ns);
        }
    }

    /** The namespaces of this test JVM that exist now (after close(): none). */
    static List<String> leftOver() throws IOException {
        return run("ip", "netns", "list").out().lines().filter(l -> l.startsWith(PREFIX + "-")).toList();
    }

    record Result(int exit, String out) {
    }

    static Result run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out + "\n(timed out)");
            }
            return new Result(p.exitValue(), out);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    private static void sh(String... cmd) throws IOException {
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + r.exit() + "): " + r.out());
        }
    }
}
