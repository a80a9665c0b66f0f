package io.prefork.supervisor.boot;

import io.prefork.posix.JnrPosix;
import io.prefork.posix.LogFile;
import io.prefork.supervisor.Event;
import io.prefork.supervisor.ExitCodes;
import io.prefork.supervisor.Generation;
import io.prefork.supervisor.IoReason;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.ReopenableLog;
import io.prefork.supervisor.Settings;
import io.prefork.supervisor.UsageException;
import io.prefork.supervisor.WorkerLauncher;
import io.prefork.supervisor.launch.BootPriority;
import io.prefork.supervisor.launch.ClassArchive;
import io.prefork.supervisor.launch.FirstWorker;
import io.prefork.supervisor.launch.JffiLibrary;
import io.prefork.supervisor.launch.JvmShare;
import io.prefork.supervisor.launch.JvmWorkerLauncher;
import io.prefork.supervisor.launch.WorkerCommand;
import io.prefork.supervisor.launch.WorkerStart;
import io.prefork.supervisor.net.BindAddress;
import io.prefork.unix.Native;
import io.prefork.unix.NativeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;

/** {@code prefork [options] [-- app args]}: parse, bind, start the workers, run the loop, clean up. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args);
        JnrPosix.awaitStartUp(5_000);  // long over by now, unless the parse refused the arguments at once
        System.exit(code);
    }

    static int run(String[] args) {
        // jnr-unixsocket takes tens of ms to load: on another thread, while this one parses. First
        // there, jffi's native stub is pointed at the copy in the cache, not a new one in /tmp that a
        // SIGKILL would leave; this thread waits for that before it loads jnr-ffi itself (it has long
        // happened by then: the parse takes longer). jnr-posix follows there only if an option needs
        // it at start; else it loads once the first workers serve (JnrPosix).
        CountDownLatch jffiChosen = new CountDownLatch(1);
        JnrPosix.warmUpAtStart(() -> {
            try {
                JffiLibrary.useInThisJvm(CacheDir.beforeParsing(args));
            } finally {
                jffiChosen.countDown();
            }
        }, needsPosixAtStart(args));
        Cli.Parsed parsed;
        try {
            parsed = Cli.parse(args);
        } catch (UsageException e) {
            System.err.println("prefork: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (parsed.help()) {
            Cli.printHelp(new PrintWriter(System.out, true, StandardCharsets.UTF_8));
            return ExitCodes.OK;
        }
        if (parsed.version()) {
            String v = Main.class.getPackage().getImplementationVersion();
            System.out.println("prefork " + (v == null ? "(development build)" : v));
            return ExitCodes.OK;
        }
        try {
            jffiChosen.await();
            Native.load();
        } catch (LinkageError | RuntimeException e) {
            System.err.println("prefork: native calls are unavailable (prefork needs Linux): " + e.getMessage());
            return ExitCodes.RUNTIME;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.RUNTIME;
        }
        try {
            return serve(args, parsed.config(), Log.stderr());
        } catch (IOException e) {
            System.err.println("prefork: " + e.getMessage());
            return ExitCodes.RUNTIME;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.RUNTIME;
        }
    }

    private static int serve(String[] args, Config config, Log log) throws IOException, InterruptedException {
        // Handlers only enqueue, so they go in first: a TERM during start-up is handled, not fatal.
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        Signals.install(events::add, log);
        try (Bootstrap process = new Bootstrap(args, config, log, events)) {
            return process.run();
        }
    }

    /**
     * Whether these arguments name an option that makes a jnr-posix call at start: --user and
     * --group (the accounts), --log-file (its open and dup2); or a --config file, which may.
     */
    static boolean needsPosixAtStart(String[] args) {
        for (String arg : args) {
            if (arg.equals("--")) {
                return false;
            }
            for (String option : List.of("--user", "--group", "--log-file", "--config")) {
                if (arg.equals(option) || arg.startsWith(option + "=")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * What workers run with, from a config: the loop's settings, the command that starts them, the
     * archive. {@code listener0} is the first listening socket as it is: bound from -b, or passed by
     * systemd or an old supervisor, which -b does not describe. {@code first}: the worker scripts/prefork
     * started beside this JVM, for the first generation's first launch (null for a reload).
     */
    static Generation generation(Config c, Path controlSocket, BindAddress listener0, ClassArchive.Accepted accepted,
                                 FirstWorker first, Log log) {
        Settings settings = new Settings.Builder(c.workers()).bootTimeout(c.bootTimeout())
                .gracefulTimeout(c.gracefulTimeout()).timeout(c.timeout()).maxSurge(c.maxSurge())
                .maxRequests(c.maxRequests(), c.maxRequestsJitter()).maxRssBytes(c.maxWorkerRssMb() << 20)
                .spares(c.spares()).spareDelay(c.spareDelay()).lameDuck(c.lameDuck()).restartBudget(c.maxRestarts(), c.restartWindow())
                .stallTimeout(c.stallTimeout()).build();
        // A heartbeat a third of the timeout apart (at most 1 s): two may get lost before a false alarm.
        long heartbeatMs = c.timeout().isZero() ? 1000 : Math.max(100, Math.min(1000, c.timeout().toMillis() / 3));
        JvmShare.Machine machine = JvmShare.Machine.current();  // /proc and the cgroup, read once per generation
        List<String> command;
        Runtime.Version jdk = null;
        boolean cache = workersReachCache(c, log);
        if (c.workerCommand().isEmpty()) {
            jdk = WorkerCommand.javaVersion(c.java());  // its release file, read once per generation
            command = WorkerCommand.build(c, jdk, machine, cache ? JffiLibrary.workerOptions(c.cacheDir()) : List.of());
            describeShare(c, jdk, machine, log);
        } else {
            command = WorkerCommand.build(c, null, machine, List.of());
        }
        String logFile = c.logFile() == null ? null : c.logFile().toString();
        ClassArchive archive = c.workerStart() != WorkerStart.PLAIN && cache ? archive(c, jdk, command, accepted, log) : null;
        // Warm-up and training requests on a private TCP listener need an app that takes TCP where its first listener goes.
        boolean privateListener = !listener0.isUnix();
        var env = JvmWorkerLauncher.environment(controlSocket.toString(), c.readyMode(), c.gracefulTimeout(),
                Duration.ofMillis(heartbeatMs), logFile, c.warmupRequests(), c.warmupPath(), privateListener);
        BootPriority priority = BootPriority.choose(c.bootNice(), log::warn);
        WorkerLauncher launcher = new JvmWorkerLauncher(c.runAs(), command, archive == null ? List::of : archive::useOptions, env, priority,
                first);
        WorkerLauncher trainer = archive == null ? null
                : new JvmWorkerLauncher(c.runAs(), command, () -> archive.trainOptions(c.trainingRequests()), env, priority, null);
        WorkerLauncher recorder = archive == null || archive.recordedFile() == null ? null
                : new JvmWorkerLauncher(c.runAs(), command, archive::recordOptions, env, priority, first);
        return new Generation(settings, launcher, archive, trainer, recorder);
    }

    /** What each worker JVM is sized for, and a warning if the heaps given add up to more than there is. */
    private static void describeShare(Config c, Runtime.Version jdk, JvmShare.Machine machine, Log log) {
        int jvms = c.workers() + c.spares();
        if (c.jvmShare()) {
            log.info(JvmShare.describe(machine, jvms, c.jvmOpts(), jdk));
        }
        String overcommit = JvmShare.overcommit(machine, jvms, c.jvmOpts());
        if (overcommit != null) {
            log.warn(overcommit);
        }
    }

    /**
     * Whether the workers may read --cache-dir: under --user, only if that user can reach it (root's
     * home, the default's, is 0700). If not, workers start without the class archive and jnr-ffi's
     * stub from there, and the log says why, once per generation.
     */
    private static boolean workersReachCache(Config c, Log log) {
        if (c.runAs() == null || !c.workerCommand().isEmpty() || c.runAs().canReach(c.cacheDir())) {  // JVM workers only
            return true;
        }
        log.warn("--cache-dir " + c.cacheDir() + ": --user " + c.runAs() + " cannot reach it, so workers start without a"
                + " class archive; give a --cache-dir that user can read, for example /var/cache/prefork");
        return false;
    }

    private static ClassArchive archive(Config c, Runtime.Version jdk, List<String> command, ClassArchive.Accepted accepted,
                                        Log log) {
        try {
            Files.createDirectories(c.cacheDir());
        } catch (IOException e) {
            log.warn("--worker-start " + c.workerStart().name().toLowerCase(java.util.Locale.ROOT) + ": cannot create " + c.cacheDir() + " (" + IoReason.of(e) + "); workers start plain");
            return null;
        }
        return ClassArchive.prepare(c, jdk, command, c.workerStart(), c.cacheDir(), accepted, log);
    }

    /** HUP: the command line as given again, with the config file as it is now on disk. */
    static Generation reload(String[] args, Config running, Path controlSocket, BindAddress listener0,
                             ClassArchive.Accepted accepted, Log log) throws UsageException {
        Config next = Cli.parse(args).config();
        boolean sameIds = next.runAs() == null ? running.runAs() == null : next.runAs().sameIds(running.runAs());
        if (!sameIds) {  // the workers' control socket is their group's, made once
            throw new UsageException("--user/--group changed to " + next.runAs() + "; they take effect when the supervisor"
                    + " starts again (running as " + running.runAs() + ")");
        }
        if (!next.binds().equals(running.binds())) {
            log.warn("reload: the -b addresses changed; listeners are bound once, so keeping " + running.binds()
                    + " (restart the supervisor to change them)");
        }
        return generation(next, controlSocket, listener0, accepted, null, log);
    }

    /** Everything written to stdout and stderr, ours and the workers' (they inherit both), goes to the file. */
    static ReopenableLog openLogFile(Path path) throws IOException {
        ReopenableLog file = () -> {
            try {
                LogFile.redirectStdoutAndStderr(path.toString());
            } catch (NativeException e) {
                throw new IOException("cannot open log file " + path + ": " + e.reason(), e);
            }
        };
        file.reopen();
        return file;
    }
}
