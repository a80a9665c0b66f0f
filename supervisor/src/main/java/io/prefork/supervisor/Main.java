package io.prefork.supervisor;

import io.prefork.unix.NativeException;
import io.prefork.unix.Posix;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
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
            return serve(parsed.config(), Log.stderr());
        } catch (IOException e) {
            System.err.println("prefork: " + e.getMessage());
            return ExitCodes.RUNTIME;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.RUNTIME;
        }
    }

    private static int serve(Config config, Log log) throws IOException, InterruptedException {
        // Handlers only enqueue, so they go in first: a TERM during start-up is handled, not fatal.
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        Signals.install(events::add, log);
        PidFile pidFile = config.pidFile() == null ? null : PidFile.write(config.pidFile());
        List<Listener> listeners = new ArrayList<>();
        ControlServer control = null;
        try {
            for (BindAddress bind : config.binds()) {
                listeners.add(openListener(bind, config.backlog()));
                log.info("listening on " + listeners.get(listeners.size() - 1).address());
            }
            List<Supervisor.Handoff> handoffs = new ArrayList<>();
            for (Listener l : listeners) {
                handoffs.add(new Supervisor.Handoff(l.address(), l.fd()));
            }
            control = ControlServer.start(events::add, log);
            WorkerLauncher launcher = new JvmWorkerLauncher(WorkerCommand.build(config),
                    control.socketPath().toString(), config.readyMode(), config.gracefulTimeout());
            Supervisor.Settings settings = new Supervisor.Settings(config.workers(), config.bootTimeout(),
                    config.gracefulTimeout(), Supervisor.Settings.defaults(1).fastStopTimeout(),
                    Supervisor.Settings.defaults(1).maxBootFailures());
            Supervisor supervisor = new Supervisor(settings, handoffs, launcher, System::nanoTime, log, events);
            log.info("starting " + config.workers() + " worker(s): " + config.appClass());
            int code = supervisor.run();
            if (supervisor.failure() != null) {
                System.err.println("prefork: " + supervisor.failure());
            }
            return code;
        } finally {
            if (control != null) {
                control.close();
            }
            for (Listener l : listeners) {
                l.close();
            }
            if (pidFile != null) {
                pidFile.remove();
            }
        }
    }

    private static Listener openListener(BindAddress bind, int backlog) throws IOException {
        try {
            return Listener.open(bind, backlog);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + bind + ": " + reason(e), e);
        }
    }

    /** The part of an IOException a user needs; the JDK's file exceptions carry only the path. */
    static String reason(IOException e) {
        if (e instanceof NativeException ne) {
            return ne.reason();
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage();
    }
}
