package io.prefork.supervisor.launch;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Builds the java command line every worker starts with. */
public final class WorkerCommand {
    static final String LAUNCHER = "io.prefork.worker.Launcher";

    private WorkerCommand() {
    }

    /** What the command line says about the app a worker runs (boot's Config is one). */
    public interface App {
        List<String> workerCommand();

        String java();

        List<String> jvmOpts();

        String appClasspath();

        String appClass();

        List<String> appArgs();

        /** --user/--group, or null. */
        RunAs runAs();

        int workers();

        int spares();

        /** --jvm-share auto: each worker JVM sized for its share of the machine ({@link JvmShare}). */
        boolean jvmShare();
    }

    /**
     * @param jdk        the version of {@code config.java()} ({@link #javaVersion}), null if unknown
     * @param machine    what the worker JVMs share, for {@code --jvm-share auto}
     * @param libraries  options that point the JVM at native libraries prefork unpacked ({@link JffiLibrary})
     */
    public static List<String> build(App config, Runtime.Version jdk, JvmShare.Machine machine, List<String> libraries) {
        if (!config.workerCommand().isEmpty()) {
            List<String> cmd = new ArrayList<>(config.workerCommand());
            cmd.addAll(config.appArgs());
            return cmd;
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(config.java());
        if (jdk != null && jdk.feature() >= 24) {
            // jnr-ffi loads a native library and uses sun.misc.Unsafe; JDK 24+ warns about both.
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        // A JVM out of memory limps on, half broken; exiting lets the supervisor count it and start
        // a fresh one. Before --jvm-opt, so -XX:-ExitOnOutOfMemoryError there turns it off.
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.addAll(libraries);
        if (config.jvmShare()) {
            cmd.addAll(JvmShare.options(machine, config.workers() + config.spares(), config.jvmOpts(), jdk));
        }
        cmd.addAll(config.jvmOpts());
        // Listeners after the first become ServerSocketChannels through the JDK's own constructor.
        cmd.add("--add-opens");
        cmd.add("java.base/sun.nio.ch=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, workerClasspath()) + File.pathSeparator + config.appClasspath());
        cmd.add(LAUNCHER);
        cmd.add(config.appClass());
        cmd.addAll(config.appArgs());
        return cmd;
    }

    /**
     * The worker library and what it needs (jnr-ffi, jnr-unixsocket, and jnr-posix's jar, whose types
     * jnr-unixsocket names; a worker never initialises jnr-posix): our own classpath minus the jars
     * only the supervisor uses, so an app never sees our commons-cli.
     */
    static List<String> workerClasspath() {
        Set<String> exclude = new LinkedHashSet<>();
        for (Class<?> supervisorOnly : new Class<?>[] {WorkerCommand.class, org.apache.commons.cli.Options.class}) {
            try {
                exclude.add(Path.of(supervisorOnly.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException | NullPointerException e) {
                // no code source: nothing to exclude
            }
        }
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty() && !exclude.contains(Path.of(entry).toAbsolutePath().toString())) {
                entries.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        return entries;
    }

    /** The version of a java executable ("17.0.15"), read from its release file; null if unknown. */
    public static Runtime.Version javaVersion(String java) {
        try {
            Path home = Path.of(java).toRealPath().getParent().getParent();
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return Runtime.Version.parse(line.substring("JAVA_VERSION=".length()).replace("\"", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
