package io.prefork.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.posix.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real supervisor JVM started from the built jars, as scripts/prefork starts it. Its stdout and
 * stderr go to a log file that tests wait on. close() kills the supervisor and every worker pid
 * that ever appeared, by PID, and waits until they are gone: no test leaves a JVM behind.
 */
final class RunningSupervisor implements AutoCloseable {
    static final Path HOME = Path.of(System.getProperty("prefork.home", "..")).toAbsolutePath().normalize();
    static final String TEST_APPS = HOME.resolve("supervisor/target/test-classes").toString();
    private static final Pattern WORKER = Pattern.compile("worker (\\d+) \\(pid (\\d+)\\)");
    private static final Pattern SUPERVISOR = Pattern.compile("prefork\\[(\\d+)\\] ");
    private static final Pattern READY = Pattern.compile("worker (\\d+) \\(pid (\\d+)\\): BOOTING -> READY");
    private static final Pattern EXITED = Pattern.compile("worker (\\d+) \\(pid (\\d+)\\): \\w+ -> EXITED");

    /** Every supervisor the current test started, for {@link PrintLogsOnFailure}. */
    private static final List<RunningSupervisor> STARTED = new ArrayList<>();

    final Process process;
    private Path log;
    /** The log as it was at close(), when the file may be deleted with the test's directory. */
    private String closingLog;
    /** The supervisor's java.io.tmpdir, if this class started it; removed by close(). */
    private Path tmp;

    private RunningSupervisor(Process process, Path log) {
        this.process = process;
        this.log = log;
        synchronized (STARTED) {
            STARTED.add(this);
        }
    }

    static List<RunningSupervisor> started() {
        synchronized (STARTED) {
            return List.copyOf(STARTED);
        }
    }

    static void forgetStarted() {
        synchronized (STARTED) {
            STARTED.clear();
        }
    }

    private boolean logPidsAreOurs = true;

    static List<String> command(String... args) {
        return commandFor("io.prefork.supervisor.boot.Main", args);
    }

    static List<String> commandFor(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", HOME.resolve("supervisor/target/prefork-supervisor.jar") + ":" + HOME.resolve("supervisor/target/lib/*"),
                mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** What {@code prefork ctl} printed and returned. */
    record CtlResult(int code, String out, String err) {
    }

    /** Runs {@code prefork ctl --socket <dir>/prefork.ctl args...} as its own JVM. */
    static CtlResult ctl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("--socket", dir.resolve("prefork.ctl").toString()));
        all.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "ctl-out-", ".txt");
        Path err = Files.createTempFile(dir, "ctl-err-", ".txt");
        Process p = new ProcessBuilder(commandFor("io.prefork.supervisor.admin.Ctl", all.toArray(String[]::new)))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("prefork ctl " + all + " did not finish within 120 s");
        }
        return new CtlResult(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /**
     * Starts a supervisor. Unless the test names a --worker-start mode, workers start plain: these
     * tests are about other things, and a training run per test would only add CPU noise
     * (FastStartIT and ScriptIT cover the default, fast).
     */
    static RunningSupervisor start(Path dir, String... args) throws IOException {
        return start(dir, Map.of(), args);
    }

    /** As {@link #start(Path, String...)}, with {@code env} added to the supervisor's environment. */
    static RunningSupervisor start(Path dir, Map<String, String> env, String... args) throws IOException {
        Path log = Files.createTempFile(dir, "supervisor-", ".log");
        Path tmp = newTmp();
        List<String> all = new ArrayList<>(List.of(args));
        int appArgs = all.indexOf("--");
        List<String> own = new ArrayList<>(appArgs < 0 ? all : all.subList(0, appArgs)); // before "--" and app args
        if (!own.contains("--worker-start")) {
            own.add("--worker-start");
            own.add("plain");
        }
        if (appArgs >= 0) {
            own.addAll(all.subList(appArgs, all.size()));
        }
        List<String> cmd = command(own.toArray(String[]::new));
        useTmp(cmd, tmp);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("TMPDIR", tmp.toString());  // and a new supervisor an upgrade starts (scripts/prefork takes it)
        // The default --cache-dir ($XDG_CACHE_HOME/prefork), its archives and jffi copy, go with tmp
        // unless the test names its own: nothing is left in the home directory.
        pb.environment().put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
        pb.environment().putAll(env);
        pb.directory(dir.toFile()); // the default admin socket, prefork.ctl, lands in the test's own directory
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        RunningSupervisor s = new RunningSupervisor(pb.start(), log);
        s.tmp = tmp;
        return s;
    }

    /** Watches a supervisor some other way started (scripts/prefork) whose output goes to {@code log}. */
    static RunningSupervisor adopt(Process process, Path log) {
        return new RunningSupervisor(process, log);
    }

    /**
     * A temporary directory for a supervisor's java.io.tmpdir: its private socket directories go there,
     * and close() of the RunningSupervisor that has it removes it, since a supervisor the teardown
     * SIGKILLs cannot remove them itself. Open to all, as /tmp is: workers run as --user reach their
     * control socket and make their training directory there.
     */
    static Path newTmp() throws IOException {
        Path tmp = Files.createTempDirectory("prefork-it-");
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        return tmp;
    }

    /**
     * Puts {@code -Djava.io.tmpdir=tmp} into a supervisor command from {@link #command} (before its
     * -cp, wherever a wrapper put the java), so its socket directories go in {@code tmp}.
     */
    static void useTmp(List<String> command, Path tmp) {
        command.add(command.indexOf("-cp"), "-Djava.io.tmpdir=" + tmp);
    }

    /** As {@link #adopt(Process, Path)}, for a supervisor started with {@code tmp} from {@link #newTmp()}. */
    static RunningSupervisor adopt(Process process, Path log, Path tmp) {
        RunningSupervisor s = new RunningSupervisor(process, log);
        s.tmp = tmp;
        return s;
    }

    /**
     * As {@link #adopt}, for a supervisor in its own pid namespace: the pids in its log are not ours,
     * so teardown ends only what descends from {@code process}.
     */
    static RunningSupervisor adoptInNamespace(Process process, Path log) {
        RunningSupervisor s = new RunningSupervisor(process, log);
        s.logPidsAreOurs = false;
        return s;
    }

    long pid() {
        return process.pid();
    }

    /** Read this file from now on (the supervisor was told --log-file). */
    void watchLog(Path file) {
        log = file;
    }

    String logText() {
        if (closingLog != null) {
            return closingLog;
        }
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** Waits for a log line matching {@code regex}, counting only matches after the first {@code skip}. */
    Matcher awaitLine(String regex, Duration timeout) {
        return awaitMatch(Pattern.compile(regex), 0, timeout);
    }

    Matcher awaitMatch(Pattern pattern, int skip, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(logText());
            int seen = 0;
            while (m.find()) {
                if (seen++ >= skip) {
                    return m;
                }
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for /" + pattern + "/ (match #" + (skip + 1)
                        + ") in the supervisor log:\n" + logText());
            }
            pause(20);
        }
    }

    int count(String regex) {
        Matcher m = Pattern.compile(regex).matcher(logText());
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** The port of the first IPv4 listener, from "listening on 127.0.0.1:PORT". */
    int port() {
        return Integer.parseInt(awaitLine("listening on 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(30)).group(1));
    }

    /** Worker id → pid for every worker that is READY now (became READY and has not exited). */
    Map<Integer, Long> readyWorkers() {
        String text = logText();
        Map<Integer, Long> ready = new LinkedHashMap<>();
        Matcher r = READY.matcher(text);
        while (r.find()) {
            ready.put(Integer.parseInt(r.group(1)), Long.parseLong(r.group(2)));
        }
        Matcher e = EXITED.matcher(text);
        while (e.find()) {
            ready.remove(Integer.parseInt(e.group(1)), Long.parseLong(e.group(2)));
        }
        return ready;
    }

    Map<Integer, Long> awaitReadyWorkers(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<Integer, Long> ready = readyWorkers();
            if (ready.size() >= n) {
                return ready;
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for " + n + " READY workers:\n" + logText());
            }
            pause(20);
        }
    }

    /** Waits until worker {@code id} is READY with a pid other than {@code oldPid}; returns it. */
    long awaitNewReady(int id, long oldPid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long pid = readyWorkers().get(id);
            if (pid != null && pid != oldPid) {
                return pid;
            }
            pause(20);
        }
        return fail("no new READY worker " + id + " within " + timeout.toSeconds() + " s:\n" + logText());
    }

    Set<Long> allWorkerPids() {
        Set<Long> pids = new LinkedHashSet<>();
        Matcher m = WORKER.matcher(logText());
        while (m.find()) {
            pids.add(Long.parseLong(m.group(2)));
        }
        return pids;
    }

    /** Every supervisor that logged here: this one, and any that took over from it in an upgrade. */
    Set<Long> allSupervisorPids() {
        Set<Long> pids = new LinkedHashSet<>();
        Matcher m = SUPERVISOR.matcher(logText());
        while (m.find()) {
            pids.add(Long.parseLong(m.group(1)));
        }
        return pids;
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the supervisor did not exit within " + timeout.toSeconds() + " s:\n" + logText());
        }
        return process.exitValue();
    }

    void signal(int signal) throws IOException {
        Processes.kill(process.pid(), signal);
    }

    /**
     * The stop with a request in flight: sends {@code path} to the port, waits until one of
     * {@code workers} has accepted it (the kernel shows the connection in its fds), sends TERM, and
     * checks that the request is answered 200 with {@code body} and that the supervisor then exits 0
     * within {@code exitWithin}. Returns the milliseconds from TERM to that exit.
     */
    long termWithRequestInFlight(int port, java.util.Collection<Long> workers, String path, String body, Duration exitWithin)
            throws Exception {
        java.util.concurrent.CompletableFuture<Http.Response> request = Http.inFlight(port, path);
        ProcFs.awaitAccepted(port, workers);
        long termAt = System.nanoTime();
        signal(io.prefork.unix.Linux.SIGTERM);
        Http.Response r = request.get(60, TimeUnit.SECONDS);
        org.junit.jupiter.api.Assertions.assertEquals(200, r.status(), "the request in flight: " + r);
        org.junit.jupiter.api.Assertions.assertEquals(body, r.body(), "the request in flight");
        org.junit.jupiter.api.Assertions.assertEquals(0, awaitExit(exitWithin), "the supervisor's exit code");
        return (System.nanoTime() - termAt) / 1_000_000;
    }

    static void deleteTree(Path root) {
        if (root == null) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.out.println("cannot remove " + root + ": " + e);
        }
    }

    static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether every thread of {@code pid} has exited: reaped, or a zombie with no thread left but its
     * own. A SIGKILLed JVM's main thread turns zombie first while its other threads are still dying
     * and its fds still open; a thread of those that was waiting in accept() can still take a
     * connection from the shared queue then, and drop it.
     */
    static boolean isGone(long pid) {
        try {
            List<String> status = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
            return status.stream().anyMatch(line -> line.startsWith("State:") && line.contains("Z"))
                    && status.stream().anyMatch(line -> line.matches("Threads:\\s+1"));
        } catch (IOException e) {
            return true;
        }
    }

    static boolean awaitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isGone(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            pause(10);
        }
        return true;
    }

    @Override
    public void close() {
        Set<Long> pids = new LinkedHashSet<>(logPidsAreOurs ? allWorkerPids() : Set.of());
        if (logPidsAreOurs) {
            pids.addAll(allSupervisorPids());  // a supervisor that took over in an upgrade is no child of ours
            pids.remove(process.pid());
        }
        process.descendants().forEach(h -> pids.add(h.pid()));
        process.destroyForcibly();
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        List<Long> left = new ArrayList<>();
        for (long pid : pids) {
            if (!awaitGone(pid, Duration.ofSeconds(10))) {
                left.add(pid);
            }
        }
        if (!awaitGone(process.pid(), Duration.ofSeconds(10))) {
            left.add(process.pid());
        }
        closingLog = logText();
        deleteTree(tmp);
        if (!left.isEmpty()) {
            fail("processes still running after teardown: " + left);
        }
    }
}
