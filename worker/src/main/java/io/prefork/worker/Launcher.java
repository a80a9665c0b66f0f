package io.prefork.worker;

import io.prefork.protocol.WorkerEnvironment;
import io.prefork.protocol.WorkerExitCodes;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import sun.misc.Signal;

/**
 * The main class of every worker JVM: {@code Launcher <app class> [app args...]}. Connects to the
 * supervisor, receives the listeners, then runs the app's main in this JVM.
 */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) {
        boolean startedBeside = "1".equals(System.getenv(WorkerEnvironment.STARTED_BESIDE));
        if (args.length < 1 || (System.getenv(WorkerEnvironment.CONTROL_SOCKET) == null && !startedBeside)) {
            System.err.println("prefork worker: the supervisor starts this class (missing "
                    + WorkerEnvironment.CONTROL_SOCKET + " or the app class)");
            System.exit(WorkerExitCodes.USAGE);
        }
        // A handful of native calls: jnr-ffi's reflection invoker starts faster than generating ASM stubs.
        if (System.getProperty("jnr.ffi.asm.enabled") == null) {
            System.setProperty("jnr.ffi.asm.enabled", "false");
        }
        int id = Integer.parseInt(System.getenv().getOrDefault(WorkerEnvironment.WORKER_ID, "0"));
        WorkerLog.setWorkerId(id);
        String appClass = args[0];
        String[] appArgs = Arrays.copyOfRange(args, 1, args.length);
        // The app's main starts at once, beside the connection to the supervisor (loading the native
        // binding, the handshake: about 100 ms of a cold start on 2 cores). It cannot take a connection
        // before then: its listeners, System.inheritedChannel() and Prefork's other calls wait for the
        // connection, and what it registers meanwhile (onStop, onWarmUp) is kept for it.
        Prefork.connectingBesideTheApp();
        ParkingSelectorProvider.install();  // before any app code asks the JDK for its provider
        Thread connector = new Thread(() -> {
            try {
                start(connect(id, startedBeside ? settingsOnStdin() : System.getenv()));
            } catch (RuntimeException | Error e) {
                // The app waits for a connection that will not come: end the worker, as before the app ran.
                WorkerLog.info("cannot start: " + e);
                System.exit(WorkerExitCodes.NO_SUPERVISOR);
            }
        }, "prefork-connect");
        connector.start();
        runApp(findMain(appClass), appClass, appArgs);
    }

    /**
     * Started beside the supervisor: loads the native binding first (the handshake then does not
     * wait for it), then waits for the supervisor to take this worker. If it ends first, so does this.
     */
    private static Map<String, String> settingsOnStdin() {
        try {
            io.prefork.unix.UnixSockets.warmUp();
        } catch (IOException e) {
            // the connection meets the same failure, and says so
        }
        Map<String, String> settings;
        try {
            settings = SettingsOnStdin.read(System.getenv());
        } catch (IOException e) {
            WorkerLog.info("cannot start: " + e.getMessage());
            System.exit(WorkerExitCodes.NO_SUPERVISOR);
            throw new IllegalStateException("unreachable");
        }
        if (settings == null || settings.get(WorkerEnvironment.CONTROL_SOCKET) == null) {
            WorkerLog.info("started beside the supervisor, which ended (or let it go) before it took this worker; exiting");
            System.exit(WorkerExitCodes.NO_SUPERVISOR);
        }
        return settings;
    }

    /** The control connection and the listeners (or the word that this is a spare); exits if there is none. */
    private static WorkerRuntime connect(int id, Map<String, String> settings) {
        try {
            StdStreams.protect();
            return WorkerRuntime.connect(id, options(settings), settings.get(WorkerEnvironment.CONTROL_SOCKET),
                    settings.getOrDefault(WorkerEnvironment.TOKEN, ""));
        } catch (IOException | RuntimeException | LinkageError e) {
            WorkerLog.info("cannot start: " + e.getMessage());
            System.exit(WorkerExitCodes.NO_SUPERVISOR);
            throw new IllegalStateException("unreachable");
        }
    }

    /** Makes the runtime the app's, and starts prefork's own threads and signal handlers. */
    private static void start(WorkerRuntime runtime) {
        Prefork.install(runtime);
        runtime.startControlThread();
        drainOnSignals(runtime);
        if (!"app".equals(System.getenv(WorkerEnvironment.READY_MODE))) {
            AutoReady.start(runtime);
        }
    }

    private static WorkerRuntime.Options options(Map<String, String> env) {
        // The training run serves --training-requests instead of --warmup-requests.
        String training = System.getProperty(WorkerEnvironment.TRAINING_PROPERTY);
        return new WorkerRuntime.Options(
                Long.parseLong(env.getOrDefault(WorkerEnvironment.MAX_REQUESTS, "0")),
                Duration.ofMillis(Long.parseLong(env.getOrDefault(WorkerEnvironment.HEARTBEAT_MS, "1000"))),
                env.get(WorkerEnvironment.LOG_FILE),
                Integer.parseInt(training != null ? training : env.getOrDefault(WorkerEnvironment.WARMUP_REQUESTS, "0")),
                env.getOrDefault(WorkerEnvironment.WARMUP_PATH, "/"),
                !"false".equals(env.get(WorkerEnvironment.WARMUP_LISTENER)));
    }

    /**
     * A terminal's Ctrl-C, timeout(1) and systemd's KillMode=control-group signal the whole group,
     * workers included, at the same time as the supervisor. The JVM's default would exit at once and
     * cut requests in flight; a worker drains instead, as it does when the supervisor says STOP.
     */
    private static void drainOnSignals(WorkerRuntime runtime) {
        Duration timeLeft = Duration.ofMillis(Long.parseLong(
                System.getenv().getOrDefault(WorkerEnvironment.GRACEFUL_TIMEOUT_MS, "30000")));
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> runtime.stop(timeLeft, Duration.ZERO, "SIG" + name));
            } catch (IllegalArgumentException e) {
                WorkerLog.info("cannot handle SIG" + name + ": " + e.getMessage());
            }
        }
    }

    private static Method findMain(String appClass) {
        Method main = null;
        try {
            main = Class.forName(appClass, false, Launcher.class.getClassLoader()).getMethod("main", String[].class);
            if (!Modifier.isStatic(main.getModifiers())) {
                throw new NoSuchMethodException(appClass + ".main is not static");
            }
        } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
            String reason = e instanceof ClassNotFoundException
                    ? "app class " + appClass + " not found on the app classpath"
                    : "no usable main in app class " + appClass + ": " + e.getMessage();
            WorkerLog.info(reason);
            reportBootError(reason);
            System.exit(WorkerExitCodes.APP_NOT_FOUND);
        }
        return main;
    }

    private static void runApp(Method main, String appClass, String[] appArgs) {
        try {
            main.invoke(null, (Object) appArgs);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            WorkerLog.info("the app's main threw " + cause);
            cause.printStackTrace();
            reportBootError("the app's main threw " + cause);
            System.exit(WorkerExitCodes.APP_FAILED);
        } catch (IllegalAccessException e) {
            reportBootError("cannot call " + appClass + ".main: " + e.getMessage());
            System.exit(WorkerExitCodes.APP_NOT_FOUND);
        }
    }

    /** Tells the supervisor why the app cannot run, once the connection is there (it may still be coming). */
    private static void reportBootError(String reason) {
        WorkerRuntime runtime = Prefork.awaitRuntime();
        if (runtime != null) {
            runtime.reportBootError(reason);
        }
    }
}
