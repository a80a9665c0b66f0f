package io.prefork.supervisor;

import io.prefork.unix.NativeException;
import io.prefork.unix.Posix;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** {@code prefork [options] [-- app args]}: parse, bind, start the workers, run the loop, clean up. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
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
            Posix.load();
        } catch (LinkageError | RuntimeException e) {
            System.err.println("prefork: native calls are unavailable (prefork needs Linux): " + e.getMessage());
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
        Supervisor.LogFile logFile = config.logFile() == null ? null : openLogFile(config.logFile());
        PidFile pidFile = config.pidFile() == null ? null : PidFile.write(config.pidFile());
        Listeners listeners = null;
        ControlServer control = null;
        AdminServer admin = null;
        AdminHttp http = null;
        long pid = ProcessHandle.current().pid();
        Systemd systemd = Systemd.fromEnvironment(System.getenv(), pid, log);
        // Set once the loop exists; until then the health endpoints see a supervisor starting up.
        java.util.concurrent.atomic.AtomicReference<Supervisor> loop = new java.util.concurrent.atomic.AtomicReference<>();
        String httpAddress = null;
        try {
            admin = openAdmin(config, events, log);
            if (config.adminBind() != null) {
                long startedAt = System.nanoTime();
                http = new AdminHttp(() -> loop.get() != null ? loop.get().readiness()
                        : new Supervisor.Readiness(startedAt, 0, config.workers(), false),
                        events::add, System::nanoTime, config.minReady());
                httpAddress = startAdminHttp(http, config.adminBind());
            }
            listeners = openListeners(config, pid, systemd, log);
            if (admin != null) {
                log.info("admin socket at " + admin.path() + " (prefork ctl)");
            }
            if (httpAddress != null) {
                logAdminHttp(httpAddress, config.adminBind(), log);
            }
            ControlAdmission admission = new ControlAdmission();
            control = ControlServer.start(events::add, admission, log);
            Path controlSocket = control.socketPath();
            Generation first = generation(config, controlSocket, log);
            Supervisor supervisor = new Supervisor(first.settings(), listeners, first.launcher(), System::nanoTime, log,
                    events, admission);
            supervisor.useGeneration(first);
            supervisor.setReloader(() -> reload(args, config, controlSocket, log));
            supervisor.setLogFile(logFile);
            if (systemd != null) {
                supervisor.setServiceManager(systemd);
                log.info("systemd: notifying " + systemd.notifier().socket() + (systemd.watchdogInterval().isZero() ? ""
                        : ", watchdog every " + systemd.watchdogInterval().toMillis() + " ms while a worker is READY"));
            }
            loop.set(supervisor);
            log.info("starting " + config.workers() + " worker(s): " + config.appClass());
            int code = supervisor.run();
            if (supervisor.failure() != null) {
                System.err.println("prefork: " + supervisor.failure());
            }
            return code;
        } finally {
            if (http != null) {
                http.close();
            }
            if (admin != null) {
                admin.close();
            }
            if (control != null) {
                control.close();
            }
            if (listeners != null) {
                listeners.close();
            }
            if (pidFile != null) {
                pidFile.remove();
            }
        }
    }

    /** The sockets systemd passed (LISTEN_FDS), or those of -b, bound now and stored with systemd if it listens. */
    private static Listeners openListeners(Config config, long pid, Systemd systemd, Log log) throws IOException {
        SocketActivation activation;
        try {
            activation = SocketActivation.fromEnvironment(System.getenv(), pid);
        } catch (UsageException e) {
            throw new IOException(e.getMessage(), e);
        }
        Listeners listeners = activation == null ? Listeners.open(config.binds(), config.backlog(), config.balance())
                : adopt(activation, config, log);
        for (Listener l : listeners.first()) {
            log.info("listening on " + l.address() + (config.balance() == Listeners.Balance.REUSEPORT && activation == null
                    && !l.address().startsWith("unix:") ? " (SO_REUSEPORT, one socket per worker)" : ""));
        }
        if (systemd != null && activation == null) {
            storeWithSystemd(systemd, listeners, log);
        }
        return listeners;
    }

    /** systemd passed us sockets: serve those, bind nothing. */
    private static Listeners adopt(SocketActivation activation, Config config, Log log) throws IOException {
        Listeners listeners;
        try {
            listeners = Listeners.adopt(activation.fds(), config.backlog());
        } catch (IOException e) {
            throw new IOException("LISTEN_FDS: " + Main.reason(e), e);
        }
        log.info("socket activation: using " + activation.fds().size() + " socket(s) from systemd (LISTEN_FDNAMES "
                + String.join(":", activation.names()) + "); -b is not bound");
        if (config.balance() == Listeners.Balance.REUSEPORT) {
            log.warn("--balance reuseport needs sockets of its own; with systemd's sockets the workers share them");
        }
        return listeners;
    }

    /**
     * FDSTORE: systemd keeps a copy of each listening socket, and passes them back (LISTEN_FDS) if
     * the supervisor itself is restarted, so the port never closes and queued connections wait.
     * Skipped when systemd says the store is off ($FDSTORE=0, systemd 254+).
     */
    private static void storeWithSystemd(Systemd systemd, Listeners listeners, Log log) {
        if ("0".equals(System.getenv("FDSTORE"))) {
            return;
        }
        List<Listener> first = listeners.first();
        for (int i = 0; i < first.size(); i++) {
            systemd.notifier().send("FDSTORE=1\nFDNAME=prefork-" + (i + 1), new int[] {first.get(i).fd()});
            first.get(i).keepPathOnClose();
        }
        log.info("systemd: stored " + first.size() + " listening socket(s) in the fd store (FDSTORE=1)");
    }

    /** Started before the listeners, like the admin socket, so a bad --admin-bind fails alone. */
    private static String startAdminHttp(AdminHttp http, BindAddress bind) throws IOException {
        try {
            return http.start(bind);
        } catch (IOException e) {
            throw new IOException("cannot serve --admin-bind " + bind + ": " + reason(e), e);
        }
    }

    private static void logAdminHttp(String address, BindAddress bind, Log log) {
        log.info("admin HTTP on " + address + ": /livez /readyz /status /metrics");
        if (!bind.isUnix() && !bind.inet().getAddress().isLoopbackAddress()) {
            log.warn("--admin-bind " + address + " is not loopback: whoever reaches it can read status and metrics"
                    + " (nothing there can change the server)");
        }
    }

    /** What workers run with, from a config: the loop's settings, the command that starts them, the archive. */
    static Generation generation(Config c, Path controlSocket, Log log) {
        Supervisor.Settings settings = new Supervisor.Settings(c.workers(), c.bootTimeout(), c.gracefulTimeout(),
                Duration.ofSeconds(1), 5, c.timeout(), c.maxSurge(), c.maxRequests(), c.maxRequestsJitter(),
                c.maxWorkerRssMb() << 20, c.spares(), c.lameDuck(), c.maxRestarts(), c.restartWindow());
        // A heartbeat a third of the timeout apart (at most 1 s): two may get lost before a false alarm.
        long heartbeatMs = c.timeout().isZero() ? 1000 : Math.max(100, Math.min(1000, c.timeout().toMillis() / 3));
        List<String> command = WorkerCommand.build(c);
        String logFile = c.logFile() == null ? null : c.logFile().toString();
        ClassArchive archive = c.fastStart() ? archive(c, command, log) : null;
        var env = JvmWorkerLauncher.environment(controlSocket.toString(), c.readyMode(), c.gracefulTimeout(),
                Duration.ofMillis(heartbeatMs), logFile, c.runAs());
        WorkerLauncher launcher = new JvmWorkerLauncher(command, archive == null ? List::of : archive::useOptions, env);
        WorkerLauncher trainer = archive == null ? null : new JvmWorkerLauncher(command, archive::trainOptions, env);
        return new Generation(settings, launcher, archive, trainer);
    }

    private static ClassArchive archive(Config c, List<String> command, Log log) {
        try {
            Files.createDirectories(c.cacheDir());
        } catch (IOException e) {
            log.warn("--worker-start fast: cannot create " + c.cacheDir() + " (" + reason(e) + "); workers start plain");
            return null;
        }
        return ClassArchive.prepare(c, command, c.cacheDir(), log);
    }

    /** HUP: the command line as given again, with the config file as it is now on disk. */
    private static Generation reload(String[] args, Config running, Path controlSocket, Log log) throws UsageException {
        Config next = Cli.parse(args).config();
        if (!next.binds().equals(running.binds())) {
            log.warn("reload: the -b addresses changed; listeners are bound once, so keeping " + running.binds()
                    + " (restart the supervisor to change them)");
        }
        return generation(next, controlSocket, log);
    }

    /**
     * The admin socket, opened before the listeners so a bad --ctl-socket fails alone; the default
     * path is best effort, one given explicitly must work.
     */
    private static AdminServer openAdmin(Config config, BlockingQueue<Event> events, Log log) throws IOException {
        try {
            return AdminServer.start(config.ctlSocket(), config.adminGroup(), events::add, log);
        } catch (IOException e) {
            if (config.ctlSocketGiven() || config.adminGroup() != null) {
                throw new IOException("cannot create the admin socket " + config.ctlSocket() + ": " + reason(e), e);
            }
            log.warn("no admin socket: cannot create " + config.ctlSocket() + ": " + reason(e) + " (see --ctl-socket)");
            return null;
        }
    }

    /** Everything written to stdout and stderr, ours and the workers' (they inherit both), goes to the file. */
    private static Supervisor.LogFile openLogFile(Path path) throws IOException {
        Supervisor.LogFile file = () -> {
            try {
                Posix.redirectStdoutAndStderr(path.toString());
            } catch (NativeException e) {
                throw new IOException("cannot open log file " + path + ": " + e.reason(), e);
            }
        };
        file.reopen();
        return file;
    }

    /** The part of an IOException a user needs; the JDK's file exceptions carry only the path. */
    static String reason(IOException e) {
        if (e instanceof NativeException ne) {
            return ne.reason();
        }
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage();
    }
}
