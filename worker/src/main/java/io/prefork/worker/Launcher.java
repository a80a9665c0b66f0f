package io.prefork.worker;

import io.prefork.protocol.WorkerEnvironment;
import io.prefork.protocol.WorkerExitCodes;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import sun.misc.Signal;

/**
 * The main class of every worker JVM: {@code Launcher <app class> [app args...]}. Connects to the
 * supervisor, receives the listeners, then runs the app's main in this JVM.
 */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) {
        String socket = System.getenv(WorkerEnvironment.CONTROL_SOCKET);
        if (args.length < 1 || socket == null) {
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
        WorkerRuntime runtime;
        try {
            StdStreams.protect();
            runtime = WorkerRuntime.connect(id, options(), socket, System.getenv().getOrDefault(WorkerEnvironment.TOKEN, ""));
        } catch (IOException | RuntimeException | LinkageError e) {
            WorkerLog.info("cannot start: " + e.getMessage());
            System.exit(WorkerExitCodes.NO_SUPERVISOR);
            return;
        }
        Prefork.install(runtime);
        runtime.startControlThread();
        drainOnSignals(runtime);
        if (!"app".equals(System.getenv(WorkerEnvironment.READY_MODE))) {
            AutoReady.start(runtime);
        }
        runApp(runtime, args[0], Arrays.copyOfRange(args, 1, args.length));
    }

    private static WorkerRuntime.Options options() {
        java.util.Map<String, String> env = System.getenv();
        return new WorkerRuntime.Options(
                Long.parseLong(env.getOrDefault(WorkerEnvironment.MAX_REQUESTS, "0")),
                Duration.ofMillis(Long.parseLong(env.getOrDefault(WorkerEnvironment.HEARTBEAT_MS, "1000"))),
                env.get(WorkerEnvironment.LOG_FILE));
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

    private static void runApp(WorkerRuntime runtime, String appClass, String[] appArgs) {
        Method main;
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
            runtime.reportBootError(reason);
            System.exit(WorkerExitCodes.APP_NOT_FOUND);
            return;
        }
        try {
            main.invoke(null, (Object) appArgs);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            WorkerLog.info("the app's main threw " + cause);
            cause.printStackTrace();
            runtime.reportBootError("the app's main threw " + cause);
            System.exit(WorkerExitCodes.APP_FAILED);
        } catch (IllegalAccessException e) {
            runtime.reportBootError("cannot call " + appClass + ".main: " + e.getMessage());
            System.exit(WorkerExitCodes.APP_NOT_FOUND);
        }
    }
}
