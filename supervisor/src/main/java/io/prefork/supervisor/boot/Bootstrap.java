package io.prefork.supervisor.boot;

import io.prefork.posix.JnrPosix;
import io.prefork.supervisor.ControlAdmission;
import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.Event;
import io.prefork.supervisor.Generation;
import io.prefork.supervisor.IoReason;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.Readiness;
import io.prefork.supervisor.ReopenableLog;
import io.prefork.supervisor.ServiceManager;
import io.prefork.supervisor.Supervisor;
import io.prefork.supervisor.UsageException;
import io.prefork.supervisor.admin.AdminHttp;
import io.prefork.supervisor.admin.AdminServer;
import io.prefork.supervisor.launch.ClassArchive;
import io.prefork.supervisor.launch.FirstWorker;
import io.prefork.supervisor.launch.JvmWorkerLauncher;
import io.prefork.supervisor.net.BindAddress;
import io.prefork.supervisor.net.ControlServer;
import io.prefork.supervisor.net.Listener;
import io.prefork.supervisor.net.Listeners;
import io.prefork.supervisor.net.SocketActivation;
import io.prefork.supervisor.systemd.Systemd;
import io.prefork.supervisor.upgrade.NewSupervisor;
import io.prefork.supervisor.upgrade.OldSupervisor;
import io.prefork.supervisor.upgrade.TakeOverWhenReady;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One supervisor process: what it opens, in order (log file, pid file, admin socket and HTTP,
 * listeners, control socket), the loop it runs, and the closing, in reverse. Started by an upgrade
 * ({@code PREFORK_UPGRADE_SOCKET} set), it takes its listeners from the old supervisor instead of
 * binding, and opens its pid file and admin endpoints only once its workers are READY and it has
 * told the old one: until then they stay the old supervisor's.
 */
public final class Bootstrap implements AutoCloseable {

    private final String[] args;
    private final Config config;
    private final Log log;
    private final BlockingQueue<Event> events;
    private final long pid = ProcessHandle.current().pid();
    private final Systemd systemd;
    /** Set once the loop exists; until then the health endpoints see a supervisor starting up. */
    private final AtomicReference<Supervisor> loop = new AtomicReference<>();
    private final long startedAt = System.nanoTime();
    private ReopenableLog logFile;
    // Opened by a take-over thread in an upgrade, closed by the main thread: volatile.
    private volatile PidFile pidFile;
    private volatile AdminServer admin;
    private volatile AdminHttp http;
    private Listeners listeners;
    private ControlServer control;
    /** The old supervisor, when this one was started by an upgrade and has not taken over yet. */
    private OldSupervisor parent;

    Bootstrap(String[] args, Config config, Log log, BlockingQueue<Event> events) {
        this.args = args;
        this.config = config;
        this.log = log;
        this.events = events;
        this.systemd = Systemd.fromEnvironment(System.getenv(), pid, log);
    }

    int run() throws IOException, InterruptedException {
        logFile = config.logFile() == null ? null : Main.openLogFile(config.logFile());
        String upgradeSocket = System.getenv(JvmWorkerLauncher.UPGRADE_SOCKET);
        try {
            if (upgradeSocket == null) {
                pidFile = config.pidFile() == null ? null : PidFile.write(config.pidFile(), 0);
                String httpAddress = openAdminEndpoints(false);
                listeners = openListeners();
                logAdminEndpoints(httpAddress);
            } else {
                parent = OldSupervisor.connect(upgradeSocket, log);
                listeners = parent.takeListeners(config.backlog(), config.balance(), config.workers());
            }
            return runLoop();
        } catch (IOException | RuntimeException e) {
            tellParentFailed(e.getMessage());
            throw e;
        }
    }

    private int runLoop() throws IOException, InterruptedException {
        ControlAdmission admission = new ControlAdmission();
        control = ControlServer.start(events::add, admission, config.runAs() == null ? -1 : config.runAs().gid(), log);
        Path controlSocket = control.socketPath();
        ClassArchive.Accepted accepted = new ClassArchive.Accepted();
        BindAddress listener0 = listeners.first().get(0).bind();
        // Started by an upgrade, there is no worker beside it: the variables are the old supervisor's.
        FirstWorker beside = parent == null ? FirstWorker.fromEnvironment(System.getenv(), log) : null;
        Generation first = Main.generation(config, controlSocket, listener0, accepted, beside, log);
        // One thread for what would block the loop: reading a reload's configuration, checking an archive.
        Executor offLoop = Executors.newSingleThreadExecutor(Daemons.named("prefork-off-loop"));
        Supervisor supervisor = new Supervisor(first, listeners, System::nanoTime, log, events, admission, offLoop);
        supervisor.setReloader(() -> Main.reload(args, config, controlSocket, listener0, accepted, log));
        supervisor.setLogFile(logFile);
        supervisor.setUpgrades(new NewSupervisor(args, events::add, log), this::handOver);
        ServiceManager manager = systemd == null ? ServiceManager.NONE : systemd;
        if (systemd != null) {
            log.info("systemd: notifying " + systemd.notifier().socket() + (systemd.watchdogInterval().isZero() ? ""
                    : ", watchdog every " + systemd.watchdogInterval().toMillis() + " ms while a worker is READY"));
        }
        // jnr-posix (signals, priorities) loads once the first workers serve, not beside their boots.
        supervisor.setServiceManager(new AfterStartUp(parent == null ? manager : new TakeOverWhenReady(manager, this::takeOver),
                JnrPosix::loadInBackground));
        loop.set(supervisor);
        log.info("starting " + config.workers() + " worker(s): " + config.appClass());
        int code = supervisor.run();
        if (supervisor.failure() != null) {
            System.err.println("prefork: " + supervisor.failure());
            tellParentFailed(supervisor.failure());
        }
        return code;
    }

    // ---- the admin endpoints and the pid file: the front doors, which an upgrade hands over ----

    /**
     * The admin socket and the admin HTTP endpoint. At start-up before the listeners, so a bad
     * --ctl-socket or --admin-bind fails alone; in an upgrade, once this supervisor takes over.
     * Returns the HTTP endpoint's address, or null.
     */
    private String openAdminEndpoints(boolean takingOver) throws IOException {
        admin = openAdmin(takingOver);
        if (config.adminBind() == null) {
            return null;
        }
        http = new AdminHttp(() -> loop.get() != null ? loop.get().readiness()
                : new Readiness(startedAt, 0, config.workers(), false),
                events::add, System::nanoTime, config.minReady(), log);
        // The old supervisor lets go of its port as it hands over: allow it a few seconds.
        long deadline = System.nanoTime() + (takingOver ? Duration.ofSeconds(10).toNanos() : 0);
        while (true) {
            try {
                return http.start(config.adminBind(), takingOver);
            } catch (IOException e) {
                if (System.nanoTime() >= deadline) {
                    throw new IOException("cannot serve --admin-bind " + config.adminBind() + ": " + IoReason.of(e), e);
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for --admin-bind " + config.adminBind(), e);
            }
        }
    }

    /** The default path is best effort; one given explicitly (or with --admin-group) must work. */
    private AdminServer openAdmin(boolean takingOver) throws IOException {
        try {
            return AdminServer.start(config.ctlSocket(), config.adminGroup(), takingOver, events::add, log);
        } catch (IOException e) {
            if (config.ctlSocketGiven() || config.adminGroup() != null) {
                throw new IOException("cannot create the admin socket " + config.ctlSocket() + ": " + IoReason.of(e), e);
            }
            log.warn("no admin socket: cannot create " + config.ctlSocket() + ": " + IoReason.of(e) + " (see --ctl-socket)");
            return null;
        }
    }

    private void logAdminEndpoints(String httpAddress) {
        if (admin != null) {
            log.info("admin socket at " + admin.path() + " (prefork ctl)");
        }
        if (httpAddress != null) {
            log.info("admin HTTP on " + httpAddress + ": /livez /readyz /status /metrics");
            if (!config.adminBind().isUnix() && !config.adminBind().inet().getAddress().isLoopbackAddress()) {
                log.warn("--admin-bind " + httpAddress + " is not loopback: whoever reaches it can read status and"
                        + " metrics (nothing there can change the server)");
            }
        }
    }

    // ---- listeners ----

    /** The sockets systemd passed (LISTEN_FDS), or those of -b, bound now and stored with systemd if it listens. */
    private Listeners openListeners() throws IOException {
        SocketActivation activation;
        try {
            activation = SocketActivation.fromEnvironment(System.getenv(), pid);
        } catch (UsageException e) {
            throw new IOException(e.getMessage(), e);
        }
        Listeners opened = activation == null ? Listeners.open(config.binds(), config.backlog(), config.balance())
                : adopt(activation.fds(), "LISTEN_FDS");
        if (activation != null) {
            log.info("socket activation: using " + activation.fds().size() + " socket(s) from systemd (LISTEN_FDNAMES "
                    + String.join(":", activation.names()) + "); -b is not bound");
        }
        for (Listener l : opened.first()) {
            log.info("listening on " + l.address() + (config.balance() == Listeners.Balance.REUSEPORT && activation == null
                    && !l.address().startsWith("unix:") ? " (SO_REUSEPORT, one socket per worker)" : ""));
        }
        if (systemd != null && activation == null) {
            storeWithSystemd(opened);
        }
        return opened;
    }

    /** Sockets someone else bound and passed down: serve those, bind nothing. */
    private Listeners adopt(List<Integer> fds, String from) throws IOException {
        Listeners adopted;
        try {
            adopted = Listeners.adopt(fds, config.backlog());
        } catch (IOException e) {
            throw new IOException(from + ": " + IoReason.of(e), e);
        }
        if (config.balance() == Listeners.Balance.REUSEPORT) {
            log.warn("--balance reuseport needs sockets of its own; with sockets passed in, the workers share them");
        }
        return adopted;
    }

    /**
     * FDSTORE: systemd keeps a copy of each listening socket, and passes them back (LISTEN_FDS) if
     * the supervisor itself is restarted, so the port never closes and queued connections wait.
     * Skipped when systemd says the store is off ($FDSTORE=0, systemd 254+).
     */
    private void storeWithSystemd(Listeners opened) {
        if ("0".equals(System.getenv("FDSTORE"))) {
            return;
        }
        List<Listener> first = opened.first();
        for (int i = 0; i < first.size(); i++) {
            systemd.notifier().send("FDSTORE=1\nFDNAME=prefork-" + (i + 1), new int[] {first.get(i).fd()});
            first.get(i).keepPathOnClose();
        }
        log.info("systemd: stored " + first.size() + " listening socket(s) in the fd store (FDSTORE=1)");
    }

    // ---- the upgrade, seen from the new supervisor ----

    /**
     * Loop thread: this supervisor's first workers are READY. Tells the old one, then (on a thread of
     * its own, since the old one may take a moment to let go of its HTTP port) opens the front doors.
     */
    private void takeOver() {
        long from = Math.max(0, parent.pid());
        parent.tellReady();
        parent = null;
        Daemons.start("prefork-takeover", () -> {
            try {
                pidFile = config.pidFile() == null ? null : PidFile.write(config.pidFile(), from);
                logAdminEndpoints(openAdminEndpoints(true));
            } catch (IOException e) {
                log.error("upgrade: " + e.getMessage() + "; serving without it");
            }
            log.info("upgrade: this supervisor (pid " + pid + ") has taken over from pid " + from);
        });
    }

    private void tellParentFailed(String reason) {
        if (parent != null) {
            parent.tellFailed(reason);
        }
    }

    // ---- the upgrade, seen from the old supervisor ----

    /**
     * The new supervisor is READY. The listening sockets are its now, so their files stay; the admin
     * endpoints close so it can open them, and the admin socket's file stays for it to replace.
     */
    private void handOver() {
        listeners.keepPaths();
        if (admin != null) {
            admin.handOver();  // its socket file stays for the new supervisor to rename its own over
            admin = null;
        }
        closeAdminEndpoints();
    }

    private void closeAdminEndpoints() {
        if (http != null) {
            http.close();
            http = null;
        }
        if (admin != null) {
            try {
                admin.close();
            } catch (IOException e) {
                log.warn("admin: " + e.getMessage());
            }
            admin = null;
        }
    }

    @Override
    public void close() {
        closeAdminEndpoints();
        if (control != null) {
            control.close();
        }
        if (listeners != null) {
            listeners.close();
        }
        String pidProblem = pidFile == null ? null : pidFile.remove();
        if (pidProblem != null) {
            log.warn(pidProblem);
        }
        if (parent != null) {
            parent.close();
        }
    }
}
