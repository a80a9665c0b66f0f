package io.prefork.supervisor.launch;

import io.prefork.posix.Processes;
import io.prefork.protocol.WorkerEnvironment;
import io.prefork.supervisor.ControlAdmission;
import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.WorkerLauncher;
import io.prefork.supervisor.WorkerProcess;
import io.prefork.unix.Fds;
import io.prefork.unix.NativeException;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The first worker's JVM, started by scripts/prefork beside the supervisor's own instead of after
 * it: the two JVM starts overlap, and the first answer comes sooner (BENCHMARKS.md section 5).
 *
 * <p>Each start writes down its first worker's command and environment in a file the script names
 * ({@link #FILE}). The next start of the same command line, the script starts that command at once,
 * its stdin a pipe whose write end this JVM inherits ({@link #STARTED}: "pid:fd"). At its first launch
 * the supervisor takes that process as worker 1 if it runs exactly the command and environment it
 * would start (as /proc shows them), and writes it this start's settings on the pipe
 * ({@link WorkerEnvironment#STARTED_BESIDE}). If not, it kills it and starts worker 1 itself. A
 * supervisor that ends first closes the pipe, and the worker ends too.
 */
public final class FirstWorker {
    /** Set by scripts/prefork: the file that keeps the first worker's command for the next start. */
    public static final String FILE = "PREFORK_FIRST_WORKER";
    /** Set by scripts/prefork when it started that command beside this JVM: "pid:fd". */
    public static final String STARTED = "PREFORK_FIRST_WORKER_STARTED";
    /** The file's first entry; a file without it is not used. */
    static final String FORMAT = "prefork first worker 1";
    /** What changes from one start to the next: written on the worker's stdin, not kept in the file. */
    static final List<String> PER_START = List.of(WorkerEnvironment.CONTROL_SOCKET, WorkerEnvironment.TOKEN,
            WorkerEnvironment.MAX_REQUESTS);

    private final Path file;
    private final long pid;
    private final int fd;
    private final Log log;
    private final AtomicBoolean used = new AtomicBoolean();
    /** The environment written down at the first launch, if it was: a command that changes later is written with it. */
    private volatile Map<String, String> writtenEnvironment;

    FirstWorker(Path file, long pid, int fd, Log log) {
        this.file = file;
        this.pid = pid;
        this.fd = fd;
        this.log = log;
    }

    /** From the variables scripts/prefork sets; null if it set none (or set them wrong). */
    public static FirstWorker fromEnvironment(Map<String, String> env, Log log) {
        String file = env.get(FILE);
        String started = env.get(STARTED);
        long pid = -1;
        int fd = -1;
        if (started != null) {
            String[] f = started.split(":");
            try {
                pid = Long.parseLong(f[0]);
                fd = Integer.parseInt(f[1]);
            } catch (RuntimeException e) {
                log.warn(STARTED + "=" + started + " is not pid:fd; the first worker starts as any other");
                return null;
            }
        }
        return file == null || file.isEmpty() ? (pid > 0 ? new FirstWorker(null, pid, fd, log) : null)
                : new FirstWorker(Path.of(file), pid, fd, log);
    }

    /**
     * At each launch; only the first does anything. Returns the worker started beside this JVM if
     * it is what {@code command} and {@code env} would start as worker 1, else null (after stopping
     * it), and the launcher starts one.
     *
     * @param env          the environment the launcher would give the worker
     * @param writable     whether that command may be written down: a worker of prefork's launcher, as this user
     */
    WorkerProcess take(WorkerLauncher.Spec spec, List<String> command, Map<String, String> env, boolean writable) {
        if (!used.compareAndSet(false, true)) {
            return null;
        }
        boolean first = spec.workerId() == 1;
        Map<String, String> expected = expectedEnvironment(env);
        if (pid > 0 && !ControlAdmission.isChildOfThisProcess(pid)) {
            // Not the script's: nothing of ours to take, and nothing to kill either.
            log.warn(STARTED + " names pid " + pid + ", which is not a child of this supervisor; ignored");
        } else if (pid > 0) {
            String difference = first ? difference(pid, command, expected) : "the first launch is not worker 1's";
            if (difference == null) {
                try {
                    tell(env);
                    log.info("worker 1 (pid " + pid + "): started beside the supervisor, taken as worker 1");
                    return adopted();
                } catch (IOException e) {
                    difference = "cannot write to its stdin: " + e.getMessage();
                }
            }
            log.info("the worker started beside the supervisor (pid " + pid + ") is not this start's worker 1 ("
                    + difference + "); stopping it, starting one");
            discard();
        }
        if (file != null && first && writable) {
            writtenEnvironment = expected;
            writeDown(command, expected);
        }
        return null;
    }

    /**
     * Worker 1 would now start with {@code command} (the class archive is ready since its launch):
     * the file says so, or the next start would start a worker beside it only to kill it.
     */
    void commandChanged(List<String> command) {
        if (writtenEnvironment != null) {
            writeDown(command, writtenEnvironment);
        }
    }

    /** What a worker started beside this JVM has: the launcher's environment, less what each start tells it. */
    static Map<String, String> expectedEnvironment(Map<String, String> env) {
        Map<String, String> expected = new TreeMap<>(env);
        PER_START.forEach(expected::remove);
        expected.remove("_");  // bash sets it to the path of the command it runs
        expected.put(WorkerEnvironment.STARTED_BESIDE, "1");
        return expected;
    }

    /** Null if the process runs {@code command} with {@code expected}; else what differs, in a few words. */
    private static String difference(long pid, List<String> command, Map<String, String> expected) {
        try {
            List<String> argv = entries(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")));
            if (!argv.equals(command)) {
                return argv.isEmpty() ? "it has ended" : "another command";
            }
            Map<String, String> actual = new TreeMap<>();
            for (String entry : entries(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")))) {
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    actual.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
            actual.remove("_");
            return actual.equals(expected) ? null : "another environment: " + differingNames(expected, actual);
        } catch (IOException e) {
            return "cannot read it in /proc: " + e.getMessage();
        }
    }

    static String differingNames(Map<String, String> expected, Map<String, String> actual) {
        TreeSet<String> names = new TreeSet<>();
        expected.forEach((k, v) -> {
            if (!v.equals(actual.get(k))) {
                names.add(k);
            }
        });
        actual.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(names::add);
        return String.join(", ", names);
    }

    /** NUL-terminated entries, as in /proc/PID/cmdline and the file. */
    static List<String> entries(byte[] bytes) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                out.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    /** This start's settings, on the worker's stdin; then this JVM's copy of the pipe is closed. */
    private void tell(Map<String, String> env) throws IOException {
        StringBuilder settings = new StringBuilder();
        for (String name : PER_START) {
            if (env.containsKey(name)) {
                settings.append(name).append('=').append(env.get(name)).append('\n');
            }
        }
        settings.append('\n');
        try (OutputStream out = new FileOutputStream("/proc/self/fd/" + fd)) {
            out.write(settings.toString().getBytes(StandardCharsets.UTF_8));
        }
        closeInherited();
    }

    private WorkerProcess adopted() {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {  // cannot be: it is our child, a zombie at worst until reaped
            throw new IllegalStateException("no process " + pid);
        }
        // The JDK waits without reaping a process it did not start; the exit value comes with the reaping.
        CompletableFuture<Integer> exit = handle.get().onExit().thenApplyAsync(h -> reap(),
                command -> Daemons.start("prefork-reap-" + pid, command));
        return new WorkerJvm(handle.get(), exit, null);
    }

    private void discard() {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        closeInherited();
        Daemons.start("prefork-reap-" + pid, this::reap);
    }

    private int reap() {
        try {
            return Processes.reap(pid);
        } catch (NativeException | RuntimeException e) {
            log.warn("the worker started beside the supervisor (pid " + pid + "): " + e.getMessage());
            return -1;
        }
    }

    private void closeInherited() {
        try {
            Fds.close(fd);
        } catch (NativeException e) {
            // not ours to keep anyway: the worker then sees the end of its stdin only when we exit
        }
    }

    /**
     * The file scripts/prefork reads: NUL-terminated entries, {@link #FORMAT} first, then "-NAME" for
     * each variable to unset and NAME=value for each to set, then "--" and the command. Written only
     * when it changes, through a temporary file and a rename.
     */
    private void writeDown(List<String> command, Map<String, String> expected) {
        byte[] content = fileContent(command, expected, System.getenv());
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), content)) {
                return;
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);  // a write cut short (a full disk) leaves nothing behind
            } catch (IOException ignored) {
                // the warning below says enough
            }
            log.warn("cannot write down the first worker's command in " + file + ": " + e.getMessage()
                    + "; every start begins with the supervisor's JVM alone");
        }
    }

    /** @param ours this JVM's environment, which the script's is, less what it sets for this JVM alone */
    static byte[] fileContent(List<String> command, Map<String, String> expected, Map<String, String> ours) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> entries = new ArrayList<>();
        entries.add(FORMAT);
        new TreeMap<>(ours).keySet().stream().filter(k -> !expected.containsKey(k) && !k.equals("_")
                        && !k.equals(FILE) && !k.equals(STARTED))
                .forEach(k -> entries.add("-" + k));
        expected.forEach((k, v) -> {
            if (!v.equals(ours.get(k))) {
                entries.add(k + "=" + v);
            }
        });
        entries.add("--");
        entries.addAll(command);
        for (String entry : entries) {
            out.writeBytes(entry.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }
}
